namespace PeftNative.Composition.Operators;

/// <summary>
/// Argument checks shared by the merge operators. Everything is checked before anything is written,
/// so a rejected call leaves <c>result</c> untouched.
/// </summary>
internal static class OperatorArguments
{
    /// <summary>At least one tensor, one finite weight per tensor, equal lengths, a result of that length overlapping no input; returns the length.</summary>
    public static int Tensors(IReadOnlyList<ReadOnlyMemory<double>> tensors, ReadOnlySpan<double> weights, Span<double> result)
    {
        ArgumentNullException.ThrowIfNull(tensors);
        if (tensors.Count == 0)
            throw new ArgumentException("at least one tensor is needed", nameof(tensors));
        if (weights.Length != tensors.Count)
            throw new ArgumentException($"{weights.Length} weights for {tensors.Count} tensors; give one weight per tensor", nameof(weights));
        for (int i = 0; i < weights.Length; i++)
            if (!double.IsFinite(weights[i]))
                throw new ArgumentException($"weights[{i}] is {weights[i]}; weights must be finite", nameof(weights));
        int length = tensors[0].Length;
        for (int i = 0; i < tensors.Count; i++)
        {
            if (tensors[i].Length != length)
                throw new ArgumentException($"tensors[{i}] has {tensors[i].Length} elements but tensors[0] has {length}; all tensors must have the same length", nameof(tensors));
            if (result.Overlaps(tensors[i].Span))
                throw new ArgumentException($"result overlaps tensors[{i}]; the result must be a separate buffer", nameof(result));
        }
        if (result.Length != length)
            throw new ArgumentException($"result has {result.Length} elements but the tensors have {length}", nameof(result));
        return length;
    }

    /// <summary>Density must be finite and &gt; 0 (PEFT's 0 would prune everything for magnitude and divide 0 by 0 for DARE); above 1 means 1.</summary>
    public static void Density(double density)
    {
        if (!double.IsFinite(density) || density <= 0)
            throw new ArgumentOutOfRangeException(nameof(density), density, "density must be finite and > 0 (values >= 1 mean no pruning)");
    }

    /// <summary>A defined sign election method.</summary>
    public static void Method(MajoritySignMethod method)
    {
        if (method is not (MajoritySignMethod.Total or MajoritySignMethod.Frequency))
            throw new ArgumentOutOfRangeException(nameof(method), method, "unknown majority sign method");
    }

    /// <summary>One keep-mask per tensor, each of the tensors' length.</summary>
    public static void KeepMasks(IReadOnlyList<ReadOnlyMemory<bool>> keep, int tensorCount, int length)
    {
        ArgumentNullException.ThrowIfNull(keep);
        if (keep.Count != tensorCount)
            throw new ArgumentException($"{keep.Count} keep-masks for {tensorCount} tensors; give one mask per tensor", nameof(keep));
        for (int i = 0; i < keep.Count; i++)
            if (keep[i].Length != length)
                throw new ArgumentException($"keep[{i}] has {keep[i].Length} elements but the tensors have {length}", nameof(keep));
    }
}
