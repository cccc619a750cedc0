using System.Text.Json.Serialization;

namespace PeftNative.Benchmarking;

/// <summary>
/// The machine's roofs, measured in the same run as the kernels: memory bandwidth of an in-place
/// read-modify-write over an array far larger than the caches (bytes read + written per second),
/// f32 FMA throughput with the widest vectors the CPU has, and bf16 dot-product throughput
/// (VDPBF16PS where present, else bf16-to-f32 widening + FMA).
/// </summary>
public sealed record ProbeResult
{
    /// <summary>Memory bandwidth, GB/s (1e9 bytes), read + write of the in-place RMW.</summary>
    [JsonPropertyName("mem_gbps")]
    public required double MemGbps { get; init; }

    /// <summary>f32 FMA throughput, GFLOP/s (an FMA is 2 flops), all threads together.</summary>
    [JsonPropertyName("fma_gflops")]
    public required double FmaGflops { get; init; }

    /// <summary>bf16 dot-product throughput, GFLOP/s (2 flops per bf16 product), all threads together.</summary>
    [JsonPropertyName("bf16_gflops")]
    public required double Bf16Gflops { get; init; }

    /// <summary>
    /// The compute roof used for bf16 factors: max(<see cref="FmaGflops"/>, <see cref="Bf16Gflops"/>),
    /// because a kernel that widens bf16 to f32 runs at the f32 FMA rate.
    /// </summary>
    [JsonPropertyName("bf16_roof_gflops")]
    public double Bf16RoofGflops => Math.Max(FmaGflops, Bf16Gflops);

    /// <summary>
    /// Which probes gave the roofs: "native" (libpeft_native's pn_probe_*), "managed"
    /// (System.Runtime.Intrinsics; libpeft_native did not load or its probes failed), or
    /// "native+managed" (both ran and at least one roof came from the managed probe because it read
    /// higher — a roof is an upper bound, so the higher reading is the better roof; <see cref="Note"/> says which).
    /// </summary>
    [JsonPropertyName("source")]
    public required string Source { get; init; }

    /// <summary>How the bf16 probe computes: "vdpbf16ps" or "widen+fma".</summary>
    [JsonPropertyName("bf16_method")]
    public required string Bf16Method { get; init; }

    /// <summary>Vector width of the probes in bits (256 for AVX2, 512 for AVX-512).</summary>
    [JsonPropertyName("vector_bits")]
    public required int VectorBits { get; init; }

    /// <summary>Threads the probes ran on.</summary>
    [JsonPropertyName("threads")]
    public required int Threads { get; init; }

    /// <summary>Size of the memory probe's buffer in bytes.</summary>
    [JsonPropertyName("mem_bytes")]
    public required long MemBytes { get; init; }

    /// <summary>Why the native probes were not used, or which roofs the managed cross-check raised; else null.</summary>
    [JsonPropertyName("note")]
    public string? Note { get; init; }

    /// <summary>The readings of libpeft_native's probes (best over the probe rounds), or null when they did not run.</summary>
    [JsonPropertyName("native")]
    public ProbeReading? Native { get; init; }

    /// <summary>The readings of the managed probes (best over the probe rounds), or null when they did not run.</summary>
    [JsonPropertyName("managed")]
    public ProbeReading? Managed { get; init; }

    /// <summary>The compute roof in GFLOP/s for factors of <paramref name="dtype"/>: bf16 uses <see cref="Bf16RoofGflops"/>, f32 and f16 the f32 FMA probe.</summary>
    public double ComputeRoofGflops(DType dtype) => dtype == DType.BF16 ? Bf16RoofGflops : FmaGflops;
}

/// <summary>The three readings of one probe implementation.</summary>
public sealed record ProbeReading
{
    /// <summary>Memory RMW bandwidth, GB/s (read + write).</summary>
    [JsonPropertyName("mem_gbps")]
    public required double MemGbps { get; init; }

    /// <summary>f32 FMA throughput, GFLOP/s.</summary>
    [JsonPropertyName("fma_gflops")]
    public required double FmaGflops { get; init; }

    /// <summary>bf16 dot throughput, GFLOP/s.</summary>
    [JsonPropertyName("bf16_gflops")]
    public required double Bf16Gflops { get; init; }

    /// <summary>Element-wise maximum of two readings (either may be null).</summary>
    public static ProbeReading? Max(ProbeReading? a, ProbeReading? b) =>
        a is null ? b : b is null ? a : new ProbeReading
        {
            MemGbps = Math.Max(a.MemGbps, b.MemGbps),
            FmaGflops = Math.Max(a.FmaGflops, b.FmaGflops),
            Bf16Gflops = Math.Max(a.Bf16Gflops, b.Bf16Gflops),
        };
}
