namespace PeftNative.Merging;

/// <summary>What a merge or unmerge did.</summary>
public sealed record MergeResult
{
    /// <summary>The published output directory.</summary>
    public required string OutputDirectory { get; init; }

    /// <summary>Tensors an adapter changed (LoRA, (IA)^3 or modules_to_save).</summary>
    public required int TensorsTouched { get; init; }

    /// <summary>Tensors copied unchanged.</summary>
    public required int TensorsCopied { get; init; }

    /// <summary>Bytes of tensor data read from the model.</summary>
    public required long BytesRead { get; init; }

    /// <summary>Bytes written (tensor data, headers and copied side files).</summary>
    public required long BytesWritten { get; init; }

    /// <summary>Wall time in seconds.</summary>
    public required double Seconds { get; init; }

    /// <summary>Peak resident memory of the process during the merge, in bytes.</summary>
    public required long PeakMemoryBytes { get; init; }

    /// <summary>Non-finite values written, by tensor (only when allowed).</summary>
    public IReadOnlyDictionary<string, long> NonFiniteCounts { get; init; } = new Dictionary<string, long>();

    /// <summary>The names of the tensors an adapter changed, in name order (what a round-trip report compares).</summary>
    public IReadOnlyList<string> TouchedTensorNames { get; init; } = [];

    /// <summary>Notices of the run (e.g. modules_to_save tensors an unmerge cannot restore).</summary>
    public IReadOnlyList<string> Notes { get; init; } = [];
}
