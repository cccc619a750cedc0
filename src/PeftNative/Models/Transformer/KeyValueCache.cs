namespace PeftNative.Models.Transformer;

/// <summary>
/// Keys and values of the positions a model has seen, so decoding one more token costs one
/// position, not the whole sequence. Created by <see cref="ICausalLanguageModel.CreateCache"/>.
/// </summary>
public abstract class KeyValueCache : IDisposable
{
    /// <summary>Positions held.</summary>
    public abstract int Length { get; }

    /// <summary>Positions the cache can hold.</summary>
    public abstract int Capacity { get; }

    /// <summary>Forgets every position from <paramref name="length"/> on (0 empties the cache),
    /// e.g. to score several continuations of one prompt.</summary>
    /// <exception cref="ArgumentOutOfRangeException">length is negative or above <see cref="Length"/>.</exception>
    public abstract void Truncate(int length);

    /// <summary>Releases the cache's memory.</summary>
    public void Dispose()
    {
        Dispose(true);
        GC.SuppressFinalize(this);
    }

    /// <summary>Releases the cache's memory.</summary>
    protected virtual void Dispose(bool disposing) { }
}
