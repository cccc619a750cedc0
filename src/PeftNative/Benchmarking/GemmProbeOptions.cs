namespace PeftNative.Benchmarking;

/// <summary>Settings of <see cref="GemmProbe"/>.</summary>
public sealed record GemmProbeOptions
{
    /// <summary>The prefill weights: GPT-2 small (Conv1D, f32 as Hugging Face ships it) and LLaMA-1B-like (nn.Linear, bf16).</summary>
    public IReadOnlyList<GemmShape> Shapes { get; init; } =
    [
        new("gpt2 attn.c_proj", 768, 768, true, DType.F32),
        new("gpt2 mlp.c_fc", 3072, 768, true, DType.F32),
        new("gpt2 mlp.c_proj", 768, 3072, true, DType.F32),
        new("llama-1b q_proj", 2048, 2048, false, DType.BF16),
        new("llama-1b up_proj", 5632, 2048, false, DType.BF16),
    ];

    /// <summary>Prompt lengths (rows of x) of the prefill measurement (default 128 and 512).</summary>
    public IReadOnlyList<int> PrefillRows { get; init; } = [128, 512];

    /// <summary>The decode weights (m = 1, memory-bound; each timed run reads another copy of W from a set larger than the caches).</summary>
    public IReadOnlyList<GemmShape> DecodeShapes { get; init; } =
    [
        new("gpt2 mlp.c_fc", 3072, 768, true, DType.F32),
        new("llama-1b up_proj", 5632, 2048, false, DType.BF16),
        new("llama-1b down_proj", 2048, 5632, false, DType.BF16),
    ];

    /// <summary>Matrix products to measure (<see cref="Backends.MatMulFactory"/> names); null: native-cpu when it loads, and managed.</summary>
    public IReadOnlyList<string>? Products { get; init; }

    /// <summary>Threads for the products and the probes (0: all logical CPUs).</summary>
    public int Threads { get; init; }

    /// <summary>Timed runs per case after one warm-up; the best counts (default 5).</summary>
    public int Repeats { get; init; } = 5;

    /// <summary>Bytes of W copies the decode runs cycle through (default 256 MiB, far above the L3 cache).</summary>
    public long DecodeSetBytes { get; init; } = 256L << 20;

    /// <summary>Bytes of the memory probe's array (default 512 MiB).</summary>
    public long ProbeBytes { get; init; } = 512L << 20;

    /// <summary>Windows of each compute probe and memory passes; the best counts (default 3).</summary>
    public int ProbeRepeats { get; init; } = 3;

    /// <summary>Duration of each compute-probe window (default 200 ms).</summary>
    public int ProbeMilliseconds { get; init; } = 200;

    /// <summary>Receives a line before each step (progress), or null.</summary>
    public Action<string>? Progress { get; init; }

    /// <summary>A shorter configuration: m = 128 only, 3 runs, smaller probes (about half a minute on 2 cores).</summary>
    public static GemmProbeOptions Quick { get; } = new()
    {
        PrefillRows = [128],
        Repeats = 3,
        DecodeSetBytes = 128L << 20,
        ProbeBytes = 256L << 20,
        ProbeRepeats = 2,
        ProbeMilliseconds = 150,
    };

    /// <summary>A configuration that runs in about a second (tests).</summary>
    public static GemmProbeOptions Tiny { get; } = new()
    {
        Shapes = [new("tiny conv1d", 96, 64, true, DType.F32), new("tiny linear", 80, 96, false, DType.BF16)],
        PrefillRows = [13],
        DecodeShapes = [new("tiny linear", 80, 96, false, DType.F16)],
        Repeats = 2,
        DecodeSetBytes = 1L << 20,
        ProbeBytes = 8L << 20,
        ProbeRepeats = 1,
        ProbeMilliseconds = 20,
    };

    internal void Validate()
    {
        if (Shapes is null || DecodeShapes is null || PrefillRows is null)
            throw new ArgumentException("shapes and prefill rows must not be null");
        foreach (var s in Shapes.Concat(DecodeShapes))
        {
            if (s.N < 1 || s.K < 1)
                throw new ArgumentException($"shape '{s.Label}' needs n and k of at least 1, got {s.N} x {s.K}");
            if (!s.DType.IsKernelFloat())
                throw new ArgumentException($"shape '{s.Label}': dtype must be F32, F16 or BF16, got {s.DType}");
        }
        if (PrefillRows.Any(m => m < 1))
            throw new ArgumentException("prefill rows must be at least 1");
        foreach (var (value, name) in new[] { (Repeats, nameof(Repeats)), (ProbeRepeats, nameof(ProbeRepeats)), (ProbeMilliseconds, nameof(ProbeMilliseconds)) })
        {
            if (value < 1)
                throw new ArgumentException($"{name} must be at least 1, got {value}");
        }
        if (ProbeBytes < 4096)
            throw new ArgumentException($"{nameof(ProbeBytes)} must be at least 4096, got {ProbeBytes}");
        if (DecodeSetBytes < 0)
            throw new ArgumentException($"{nameof(DecodeSetBytes)} must not be negative, got {DecodeSetBytes}");
        if (Threads < 0)
            throw new ArgumentException($"{nameof(Threads)} must be 0 (all) or more, got {Threads}");
    }
}
