using System.Globalization;
using BenchmarkDotNet.Attributes;
using PeftNative.Backends;

namespace PeftNative.Benchmarks;

/// <summary>
/// The forward pass's matrix product y (m × n) = x (m × k) · W (<see cref="IMatMul"/>), per product:
/// prefill shapes of GPT-2 small and LLaMA-1B at m = 128, one decode shape (m = 1) and one odd shape.
/// bytes = |W| + 4·m·k + 4·m·n (the GB/s column; decode is memory-bound), flops = 2·m·n·k
/// (<c>peftnative bench --gemm</c> relates both to this machine's roofs in one run).
/// </summary>
[Config(typeof(KernelBenchmarkConfig))]
public class MatMulBenchmarks : IBytesPerOperation, IDisposable
{
    /// <summary>The product (<see cref="MatMulFactory"/> name).</summary>
    [Params("native-cpu", "managed")]
    public string Product { get; set; } = "native-cpu";

    /// <summary>"m x n x k".</summary>
    [Params("128x768x3072", "128x3072x768", "128x5632x2048", "1x5632x2048", "131x771x1029")]
    public string Shape { get; set; } = "128x768x3072";

    /// <summary>dtype of W (x and y are f32).</summary>
    [Params("f32", "bf16")]
    public string DType { get; set; } = "f32";

    /// <summary>W stored (k × n) (GPT-2 Conv1D) instead of (n × k).</summary>
    [Params(false, true)]
    public bool InputMajor { get; set; }

    private IMatMul _product = null!;
    private Tensor _w = null!;
    private float[] _x = [];
    private float[] _y = [];

    private int M => Dim(0);

    private int N => Dim(1);

    private int K => Dim(2);

    /// <inheritdoc />
    public long BytesPerOperation => (long)N * K * DTypeInfo.Parse(DType).SizeOf() + 4L * M * K + 4L * M * N;

    /// <summary>Creates the product (throws with the reason when it cannot run here) and the operands.</summary>
    [GlobalSetup]
    public void Setup()
    {
        _product = MatMulFactory.Create(Product, threads: 0);
        var d = DTypeInfo.Parse(DType);
        _w = Tensor.Allocate(d, InputMajor ? [K, N] : [N, K]);
        var rng = new Random(42);
        switch (d)
        {
            case PeftNative.DType.F32:
                foreach (ref float v in _w.AsSpan<float>())
                    v = (float)(rng.NextDouble() - 0.5);
                break;
            default:
                foreach (ref BFloat16 v in _w.AsSpan<BFloat16>())
                    v = BFloat16.FromSingle((float)(rng.NextDouble() - 0.5));
                break;
        }
        _x = new float[M * K];
        for (int i = 0; i < _x.Length; i++)
            _x[i] = (float)(rng.NextDouble() - 0.5);
        _y = new float[M * N];
    }

    /// <summary>One product.</summary>
    [Benchmark]
    public void MatMul() => _product.MatMul(_x, M, _w, InputMajor, _y);

    /// <summary>Frees the operands and the product.</summary>
    [GlobalCleanup]
    public void Dispose()
    {
        _w?.Dispose();
        _product?.Dispose();
        GC.SuppressFinalize(this);
    }

    private int Dim(int i) => int.Parse(Shape.Split('x')[i], CultureInfo.InvariantCulture);
}
