using System.Text.Json.Serialization;

namespace PeftNative.Benchmarking;

/// <summary>One case of <see cref="GemmProbe"/>: a product on one weight at one m.</summary>
public sealed record GemmMeasurement
{
    /// <summary>The matrix product ("native-cpu", "managed").</summary>
    public required string Product { get; init; }

    /// <summary>What the weight is.</summary>
    public required string Label { get; init; }

    /// <summary>Rows of x (tokens).</summary>
    public required int M { get; init; }

    /// <summary>Output features.</summary>
    public required int N { get; init; }

    /// <summary>Input features.</summary>
    public required int K { get; init; }

    /// <summary>W's dtype ("f32", "f16", "bf16").</summary>
    [JsonPropertyName("dtype")]
    public required string DType { get; init; }

    /// <summary>W stored (k × n) (Conv1D).</summary>
    public required bool WeightIsInputMajor { get; init; }

    /// <summary>Threads.</summary>
    public required int Threads { get; init; }

    /// <summary>Best seconds of the timed runs.</summary>
    public required double Seconds { get; init; }

    /// <summary>Median seconds of the timed runs.</summary>
    public required double MedianSeconds { get; init; }

    /// <summary>2·m·n·k / best seconds, in 1e9 per second.</summary>
    public required double Gflops { get; init; }

    /// <summary>Bytes of W, x and y (read + written) / best seconds, in 1e9 per second.</summary>
    public required double Gbps { get; init; }

    /// <summary>"fma" (prefill: GFLOP/s over the f32 FMA probe) or "memory" (decode: GB/s over the memory probe).</summary>
    public required string Roof { get; init; }

    /// <summary>The measure over its roof, both from this run (the roof is the best probe reading of the run).</summary>
    public required double Ratio { get; init; }

    /// <summary>The f32 FMA probe in a short window just before this case (shows how busy the machine was then).</summary>
    public required double AdjacentFmaGflops { get; init; }

    /// <summary>Prefill only: flops per second of process CPU time over the same for the FMA probe (time slicing on a busy machine cancels out); null for decode.</summary>
    public required double? CpuTimeRatio { get; init; }
}
