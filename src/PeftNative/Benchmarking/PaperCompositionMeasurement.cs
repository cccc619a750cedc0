namespace PeftNative.Benchmarking;

/// <summary>
/// <see cref="CompositionProbe"/>'s paper-method measurement: composing k rank-r adapters of a model
/// (A' = sum |c_i| A_i, B' = sum c_i B_i per module) against the memory roof. Bytes = every input
/// factor read once + every output factor written once; roofline = bytes / memory probe / seconds.
/// </summary>
public sealed record PaperCompositionMeasurement
{
    /// <summary>
    /// What was timed: "composer" (AdapterComposer.Compose with the paper method, output allocation
    /// included); "affine" (the IKernelBackend.AffineReportingNonFinite calls the paper method makes, one module after the
    /// other with multi-threaded kernels, into outputs allocated once); "affine-parallel-modules" (the same
    /// calls with single-threaded kernels, modules spread over the threads).
    /// </summary>
    public required string Route { get; init; }

    /// <summary>Kernel backend.</summary>
    public required string Backend { get; init; }

    /// <summary>dtype of the factors ("bf16").</summary>
    [System.Text.Json.Serialization.JsonPropertyName("dtype")]
    public required string DType { get; init; }

    /// <summary>Layers x targets per layer.</summary>
    public required int Modules { get; init; }

    /// <summary>Adapters composed.</summary>
    public required int Adapters { get; init; }

    /// <summary>Rank of each adapter.</summary>
    public required int Rank { get; init; }

    /// <summary>Bytes read + written.</summary>
    public required long Bytes { get; init; }

    /// <summary>Best seconds.</summary>
    public required double Seconds { get; init; }

    /// <summary>Median seconds.</summary>
    public required double MedianSeconds { get; init; }

    /// <summary>Bytes / best seconds, GB/s (1e9).</summary>
    public required double Gbps { get; init; }

    /// <summary>Bytes / memory roof / best seconds (target: at least 0.7).</summary>
    public required double Roofline { get; init; }
}
