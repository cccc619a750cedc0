using BenchmarkDotNet.Attributes;
using PeftNative.Backends;
using PeftNative.Benchmarking;

namespace PeftNative.Benchmarks;

/// <summary>
/// The paper method on 8 rank-16 adapters of a 32-layer LLaMA-2-7B-shaped model (7 targets per layer,
/// <see cref="PaperCompositionWorkload"/>). bytes = every input factor read once + every output factor
/// written once (as <c>CompositionProbe</c> counts them). <c>Compose</c> times AdapterComposer.Compose; <c>Affine</c> (baseline) and
/// <c>AffineParallelModules</c> time the kernel calls the paper method makes, the floor it can reach.
/// </summary>
[Config(typeof(KernelBenchmarkConfig))]
public class PaperCompositionBenchmarks : IDisposable, IBytesPerOperation
{
    private const int Layers = 32, Hidden = 4096, Intermediate = 11008, Adapters = 8, Rank = 16;

    private PaperCompositionWorkload? _work;
    private IKernelBackend? _backend;
    private IKernelBackend? _single;

    /// <summary>Backend under test.</summary>
    [Params("native-cpu", "managed")]
    public string Backend { get; set; } = "native-cpu";

    /// <summary>dtype of the factors.</summary>
    [Params("bf16", "f32")]
    public string DType { get; set; } = "bf16";

    /// <inheritdoc />
    public long BytesPerOperation => PaperCompositionWorkload.BytesOf(Layers, Hidden, Intermediate, Adapters, Rank, DTypeInfo.Parse(DType));

    /// <summary>Allocates and touches the factors; creates the backends (throws with the reason when one cannot run here).</summary>
    [GlobalSetup]
    public void Setup()
    {
        _backend = KernelBackendFactory.Create(Backend, threads: 0);
        _single = KernelBackendFactory.Create(Backend, threads: 1);
        _work = new PaperCompositionWorkload(Layers, Hidden, Intermediate, Adapters, Rank, DTypeInfo.Parse(DType));
    }

    /// <summary>The paper method's affine calls, module after module, multi-threaded kernels.</summary>
    [Benchmark(Baseline = true)]
    public void Affine() => _work!.Affine(_backend!);

    /// <summary>The same calls, single-threaded kernels, modules over all threads.</summary>
    [Benchmark]
    public void AffineParallelModules() => _work!.AffineParallelModules(_single!, Environment.ProcessorCount);

    /// <summary>AdapterComposer.Compose (paper), output allocation and disposal included.</summary>
    [Benchmark]
    public void Compose()
    {
        // the composer spreads modules over threads itself; its default backend is single-threaded
        using var result = _work!.Compose(_single!);
    }

    /// <summary>Frees everything.</summary>
    [GlobalCleanup]
    public void Dispose()
    {
        _work?.Dispose();
        _backend?.Dispose();
        _single?.Dispose();
        _work = null;
        GC.SuppressFinalize(this);
    }
}
