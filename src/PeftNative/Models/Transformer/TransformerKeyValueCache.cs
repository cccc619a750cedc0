namespace PeftNative.Models.Transformer;

/// <summary>
/// The key/value cache of a <see cref="DecoderModel"/>: per layer, keys (after the rotary
/// embedding) and values laid out [kv head][position][head dim], so one head's history is
/// contiguous for the attention loop. Tied to the model that created it.
/// </summary>
internal sealed class TransformerKeyValueCache : KeyValueCache
{
    private readonly float[][] _keys;
    private readonly float[][] _values;
    private int _length;
    private bool _disposed;

    public TransformerKeyValueCache(DecoderModel owner, int layers, int keyValueHeads, int headDim, int capacity)
    {
        Owner = owner;
        Capacity = capacity;
        KeyValueHeads = keyValueHeads;
        HeadDim = headDim;
        _keys = new float[layers][];
        _values = new float[layers][];
        long perLayer = (long)keyValueHeads * capacity * headDim;
        if (perLayer > Array.MaxLength)
            throw new ArgumentOutOfRangeException(nameof(capacity), capacity, $"a cache of {capacity} positions needs {perLayer} values per layer, more than one array holds");
        for (int i = 0; i < layers; i++)
        {
            _keys[i] = new float[perLayer];
            _values[i] = new float[perLayer];
        }
    }

    public DecoderModel Owner { get; }

    public int KeyValueHeads { get; }

    public int HeadDim { get; }

    /// <inheritdoc/>
    public override int Length => _length;

    /// <inheritdoc/>
    public override int Capacity { get; }

    internal bool IsDisposed => _disposed;

    /// <inheritdoc/>
    public override void Truncate(int length)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(length, _length);
        _length = length;
    }

    /// <summary>One layer's keys, [kv head][position][head dim].</summary>
    internal float[] Keys(int layer) => _keys[layer];

    /// <summary>One layer's values, [kv head][position][head dim].</summary>
    internal float[] Values(int layer) => _values[layer];

    /// <summary>Records that <paramref name="count"/> more positions were written.</summary>
    internal void Advance(int count) => _length += count;

    /// <inheritdoc/>
    protected override void Dispose(bool disposing)
    {
        _disposed = true;
        Array.Fill(_keys, []);
        Array.Fill(_values, []);
        base.Dispose(disposing);
    }
}
