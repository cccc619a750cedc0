using System.Text.Json.Serialization;

namespace PeftNative.Benchmarking;

/// <summary>
/// One measured case on one backend. <see cref="Seconds"/> is the best (shortest) of the timed cold
/// runs; <see cref="Gbps"/> = <see cref="Bytes"/> / <see cref="Seconds"/>; <see cref="Roofline"/> =
/// max(bytes / memory probe, flops / compute probe) / seconds — 1.0 means the kernel runs at the
/// machine's roof, 0.5 at half of it.
/// </summary>
public sealed record BenchResult
{
    /// <summary>"affine", "lowrank_merge", "scale_rows", "scale_cols" or "convert".</summary>
    [JsonPropertyName("kernel")]
    public required string Kernel { get; init; }

    /// <summary>"native-cpu", "managed" or "reference".</summary>
    [JsonPropertyName("backend")]
    public required string Backend { get; init; }

    /// <summary>"f32", "bf16", "f16"; for convert "src->dst", e.g. "f32->bf16".</summary>
    [JsonPropertyName("dtype")]
    public required string DType { get; init; }

    /// <summary>"MxN": the stored shape of W (or of each affine input / conversion buffer).</summary>
    [JsonPropertyName("shape")]
    public required string Shape { get; init; }

    /// <summary>Rank r of the update for lowrank_merge; null for the other kernels.</summary>
    [JsonPropertyName("rank")]
    public int? Rank { get; init; }

    /// <summary>k for affine; 1 for the others.</summary>
    [JsonPropertyName("inputs")]
    public required int Inputs { get; init; }

    /// <summary>True when W is stored in x out and the update transposed (lowrank_merge only).</summary>
    [JsonPropertyName("fan_in_fan_out")]
    public bool FanInFanOut { get; init; }

    /// <summary>Threads the backend ran on.</summary>
    [JsonPropertyName("threads")]
    public required int Threads { get; init; }

    /// <summary>Best (shortest) of the timed cold runs, in seconds.</summary>
    [JsonPropertyName("seconds")]
    public required double Seconds { get; init; }

    /// <summary>Bytes / seconds / 1e9.</summary>
    [JsonPropertyName("gbps")]
    public required double Gbps { get; init; }

    /// <summary>max(bytes / memory probe, flops / compute probe) / seconds.</summary>
    [JsonPropertyName("roofline")]
    public required double Roofline { get; init; }

    /// <summary>Which roof is the higher floor: "memory" or "compute".</summary>
    [JsonPropertyName("bound")]
    public required string Bound { get; init; }

    /// <summary>Median of the timed cold runs, in seconds.</summary>
    [JsonPropertyName("median_seconds")]
    public required double MedianSeconds { get; init; }

    /// <summary>Timed cold runs (after the warm-up).</summary>
    [JsonPropertyName("runs")]
    public required int Runs { get; init; }

    /// <summary>Copies of the case's buffers the runs rotate through.</summary>
    [JsonPropertyName("copies")]
    public required int Copies { get; init; }

    /// <summary>Bytes counted (see <see cref="BenchCase"/>).</summary>
    [JsonPropertyName("bytes")]
    public required long Bytes { get; init; }

    /// <summary>Flops counted (lowrank_merge only; else 0).</summary>
    [JsonPropertyName("flops")]
    public required double Flops { get; init; }
}

/// <summary>A case that could not be measured on a backend (for instance a kernel not implemented there).</summary>
public sealed record BenchError
{
    /// <summary>Kernel report name.</summary>
    [JsonPropertyName("kernel")]
    public required string Kernel { get; init; }

    /// <summary>Backend name.</summary>
    [JsonPropertyName("backend")]
    public required string Backend { get; init; }

    /// <summary>dtype as in <see cref="BenchResult.DType"/>.</summary>
    [JsonPropertyName("dtype")]
    public required string DType { get; init; }

    /// <summary>"MxN".</summary>
    [JsonPropertyName("shape")]
    public required string Shape { get; init; }

    /// <summary>Rank for lowrank_merge, else null.</summary>
    [JsonPropertyName("rank")]
    public int? Rank { get; init; }

    /// <summary>k for affine, else 1.</summary>
    [JsonPropertyName("inputs")]
    public required int Inputs { get; init; }

    /// <summary>Exception type and first line of its message.</summary>
    [JsonPropertyName("message")]
    public required string Message { get; init; }
}
