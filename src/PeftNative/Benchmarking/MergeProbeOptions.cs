namespace PeftNative.Benchmarking;

/// <summary>Settings of one <see cref="MergeProbe.Measure"/>: the synthetic LLaMA-shaped bf16 model and the adapter merged into it.</summary>
public sealed record MergeProbeOptions
{
    /// <summary>Decoder layers (default 22: a 1.1B-parameter model with the other defaults).</summary>
    public int Layers { get; init; } = 22;

    /// <summary>Hidden size (default 2048).</summary>
    public int Hidden { get; init; } = 2048;

    /// <summary>Key/value projection width (default 256: 4 key-value heads of 64, grouped-query attention).</summary>
    public int KeyValue { get; init; } = 256;

    /// <summary>MLP width (default 5632).</summary>
    public int Intermediate { get; init; } = 5632;

    /// <summary>Vocabulary (default 32000; embeddings and an untied lm_head).</summary>
    public int Vocab { get; init; } = 32000;

    /// <summary>LoRA rank on all seven projections of every layer (default 16).</summary>
    public int Rank { get; init; } = 16;

    /// <summary>Largest shard of the synthetic model (default 1 GB, so the full model has three shards).</summary>
    public long ShardBytes { get; init; } = 1_000_000_000;

    /// <summary>Directory for the synthetic model and outputs (its file system is what is measured); null: the system temporary directory. Everything is removed afterwards.</summary>
    public string? Directory { get; init; }

    /// <summary>fsync outputs before the clock stops, in the probe and the merge alike (default true, as a merge does).</summary>
    public bool Durable { get; init; } = true;

    /// <summary>Kernel backend of the merge (null: auto).</summary>
    public string? Backend { get; init; }

    /// <summary>Kernel threads (&lt;= 0: all).</summary>
    public int Threads { get; init; }

    /// <summary>Receives a line per step.</summary>
    public Action<string>? Progress { get; init; }

    /// <summary>A small model (4 layers, hidden 1024, about 0.1 GB) that runs in seconds.</summary>
    public static MergeProbeOptions Quick { get; } = new() { Layers = 4, Hidden = 1024, KeyValue = 128, Intermediate = 2816, Vocab = 8000, ShardBytes = 50_000_000 };

    /// <summary>Parameters of the model these options describe.</summary>
    public long Parameters => 2L * Vocab * Hidden + Hidden
        + Layers * (2L * Hidden * Hidden + 2L * KeyValue * Hidden + 3L * Intermediate * Hidden + 2L * Hidden);
}
