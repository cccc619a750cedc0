using PeftNative.Adapters;

namespace PeftNative.Merging;

/// <summary>
/// Merges an adapter into a Hugging Face model directory (and back out), streaming tensor by
/// tensor into a new directory that appears atomically. Inputs are never modified.
/// </summary>
public static class ModelMerger
{
    /// <summary>Writes <paramref name="modelDirectory"/> with <paramref name="adapter"/> merged into
    /// <paramref name="outputDirectory"/> (which must not exist, or is replaced only when it is a
    /// previous merge output; it must not be, contain or lie inside an input).</summary>
    /// <exception cref="FileFormatException">A bad model or adapter file (named).</exception>
    /// <exception cref="NonFiniteMergeException">A merged tensor holds NaN/Inf and <see cref="MergeOptions.AllowNonFinite"/> is off.</exception>
    /// <exception cref="OperationCanceledException">Cancelled; nothing is left behind.</exception>
    public static MergeResult Merge(string modelDirectory, PeftAdapter adapter, string outputDirectory,
        MergeOptions? options = null, IProgress<MergeProgress>? progress = null, CancellationToken cancellationToken = default) =>
        throw new NotImplementedException("merge lands with issue 5");

    /// <summary>The inverse of <see cref="Merge"/>: subtracts LoRA updates, divides by (IA)^3
    /// vectors (a zero in l is an error naming the tensor and index).</summary>
    public static MergeResult Unmerge(string modelDirectory, PeftAdapter adapter, string outputDirectory,
        MergeOptions? options = null, IProgress<MergeProgress>? progress = null, CancellationToken cancellationToken = default) =>
        throw new NotImplementedException("unmerge lands with issue 5");
}
