namespace PeftNative.Merging;

/// <summary>A merged tensor holds NaN or ±Inf; nothing was published.</summary>
public sealed class NonFiniteMergeException : InvalidOperationException
{
    /// <summary>Creates the exception for one tensor.</summary>
    public NonFiniteMergeException(string tensorName, long count)
        : base($"merged tensor '{tensorName}' holds {count} non-finite value(s) (NaN or Inf); nothing was written (allow them with --allow-nonfinite)")
    {
        TensorName = tensorName;
        Count = count;
    }

    /// <summary>The first tensor found with non-finite values.</summary>
    public string TensorName { get; }

    /// <summary>How many of its values are non-finite.</summary>
    public long Count { get; }
}
