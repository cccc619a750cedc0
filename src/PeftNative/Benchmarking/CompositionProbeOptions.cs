namespace PeftNative.Benchmarking;

/// <summary>Settings of <see cref="CompositionProbe"/>.</summary>
public sealed record CompositionProbeOptions
{
    /// <summary>Sizes n of the n x n targets of the svd comparison (default 1024 and 2048: MathNet's managed full SVD of 4096 x 4096 takes about 20 minutes on 2 cores; <see cref="Full"/> adds 4096).</summary>
    public IReadOnlyList<int> SvdSizes { get; init; } = [1024, 2048];

    /// <summary>Adapters summed in the svd comparison (default 8).</summary>
    public int SvdAdapters { get; init; } = 8;

    /// <summary>Rank of each adapter in the svd comparison (default 16).</summary>
    public int SvdRank { get; init; } = 16;

    /// <summary>Target rank of the svd comparison (default 16).</summary>
    public int SvdTargetRank { get; init; } = 16;

    /// <summary>Timed runs of the factor route; the best counts (default 5). The dense route runs once: it takes seconds to minutes.</summary>
    public int SvdRepeats { get; init; } = 5;

    /// <summary>Layers of the model whose adapters the paper measurement composes (default 32).</summary>
    public int Layers { get; init; } = 32;

    /// <summary>Hidden size (default 4096): q, k, v, o are hidden x hidden.</summary>
    public int Hidden { get; init; } = 4096;

    /// <summary>MLP size (default 11008, LLaMA-2-7B): gate and up are intermediate x hidden, down hidden x intermediate.</summary>
    public int Intermediate { get; init; } = 11008;

    /// <summary>Adapters composed (default 8).</summary>
    public int Adapters { get; init; } = 8;

    /// <summary>Rank of each adapter (default 16).</summary>
    public int Rank { get; init; } = 16;

    /// <summary>dtype of the factors (default BF16).</summary>
    public DType DType { get; init; } = DType.BF16;

    /// <summary>Kernel backend name for the paper measurement (null: automatic).</summary>
    public string? Backend { get; init; }

    /// <summary>Threads for the kernels and the memory probe (0: all logical CPUs).</summary>
    public int Threads { get; init; }

    /// <summary>Timed runs of each paper route after one warm-up; the best counts (default 5).</summary>
    public int Repeats { get; init; } = 5;

    /// <summary>Bytes of the memory probe's array (default 1 GiB).</summary>
    public long ProbeBytes { get; init; } = 1L << 30;

    /// <summary>Memory-probe passes; the best counts (default 3).</summary>
    public int ProbeRepeats { get; init; } = 3;

    /// <summary>Run the svd comparison (default true).</summary>
    public bool MeasureSvd { get; init; } = true;

    /// <summary>Run the paper measurement (default true).</summary>
    public bool MeasurePaper { get; init; } = true;

    /// <summary>Receives a line before each step (progress), or null.</summary>
    public Action<string>? Progress { get; init; }

    /// <summary>The figures the issue asks for, at full size: svd at 1024, 2048 and 4096 (the 4096 dense SVD alone takes about 20 minutes on 2 cores).</summary>
    public static CompositionProbeOptions Full { get; } = new() { SvdSizes = [1024, 2048, 4096] };

    /// <summary>A configuration that runs in about a second (tests).</summary>
    public static CompositionProbeOptions Tiny { get; } = new()
    {
        SvdSizes = [96],
        SvdAdapters = 3,
        SvdRank = 4,
        SvdTargetRank = 4,
        SvdRepeats = 2,
        Layers = 2,
        Hidden = 64,
        Intermediate = 96,
        Adapters = 3,
        Rank = 4,
        Repeats = 2,
        ProbeBytes = 8L << 20,
        ProbeRepeats = 1,
    };

    internal void Validate()
    {
        if (SvdSizes is null || SvdSizes.Any(n => n < 1))
            throw new ArgumentException("svd sizes must be at least 1");
        foreach (var (value, name) in new[] { (SvdAdapters, nameof(SvdAdapters)), (SvdRank, nameof(SvdRank)), (SvdTargetRank, nameof(SvdTargetRank)),
                     (SvdRepeats, nameof(SvdRepeats)), (Layers, nameof(Layers)), (Hidden, nameof(Hidden)), (Intermediate, nameof(Intermediate)),
                     (Adapters, nameof(Adapters)), (Rank, nameof(Rank)), (Repeats, nameof(Repeats)), (ProbeRepeats, nameof(ProbeRepeats)) })
        {
            if (value < 1)
                throw new ArgumentException($"{name} must be at least 1, got {value}");
        }
        if (ProbeBytes < 4096)
            throw new ArgumentException($"{nameof(ProbeBytes)} must be at least 4096, got {ProbeBytes}");
        if (!DType.IsKernelFloat())
            throw new ArgumentException($"{nameof(DType)} must be F32, F16 or BF16, got {DType}");
        if (Threads < 0)
            throw new ArgumentException($"{nameof(Threads)} must be 0 (all) or more, got {Threads}");
    }
}
