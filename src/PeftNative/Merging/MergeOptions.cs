namespace PeftNative.Merging;

/// <summary>How <see cref="ModelMerger"/> writes a merged (or unmerged) model.</summary>
public sealed record MergeOptions
{
    /// <summary>Output dtype of floating-point weights (F32, BF16, F16); null keeps each tensor's dtype.</summary>
    public DType? OutputDType { get; init; }

    /// <summary>Largest shard in bytes; null shards like the input.</summary>
    public long? MaxShardBytes { get; init; }

    /// <summary>Write the output even when a merged tensor holds NaN or ±Inf (otherwise the
    /// merge stops, naming the tensor and the count).</summary>
    public bool AllowNonFinite { get; init; }

    /// <summary>Kernel backend name (see <see cref="Backends.KernelBackendFactory"/>); null: environment, else auto.</summary>
    public string? Backend { get; init; }

    /// <summary>Worker threads (&lt;= 0: all logical CPUs).</summary>
    public int Threads { get; init; }

    /// <summary>Receives one-line notices (backend fallback, removed stale temporaries); default standard error.</summary>
    public Action<string>? Diagnostics { get; init; }
}
