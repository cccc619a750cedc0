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

    /// <summary>
    /// More directories the output must not be, contain or lie inside (besides the model's and the
    /// adapter's own): e.g. the input adapters of a composed adapter, which has no directory.
    /// </summary>
    public IReadOnlyList<string> ProtectedDirectories { get; init; } = [];

    /// <summary>fsync every file and directory before the output is published (default true; false leaves it to the page cache).</summary>
    public bool Durable { get; init; } = true;

    /// <summary>What to record as the adapter in peftnative_merge.json (default: its directory, or "composed adapter").</summary>
    public string? AdapterDescription { get; init; }
}
