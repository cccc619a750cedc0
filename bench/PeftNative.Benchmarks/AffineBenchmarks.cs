using BenchmarkDotNet.Attributes;

namespace PeftNative.Benchmarks;

/// <summary>out = Σ w_i x_i over k inputs into a separate output; bytes = (k + 1) · n · element size.</summary>
public class AffineBenchmarks : KernelBenchmark
{
    /// <summary>Storage dtype of inputs and output.</summary>
    [Params("f32", "bf16", "f16")]
    public string DType { get; set; } = "f32";

    /// <summary>Number of inputs k.</summary>
    [Params(2, 8)]
    public int K { get; set; } = 2;

    private Tensor[] _inputs = [];
    private Tensor _output = null!;
    private float[] _weights = [];

    /// <inheritdoc />
    public override long BytesPerOperation => (K + 1L) * Elements * DTypeInfo.Parse(DType).SizeOf();

    /// <inheritdoc />
    protected override void Allocate()
    {
        var d = DTypeInfo.Parse(DType);
        _inputs = Enumerable.Range(0, K).Select(_ => NewTensor(d, Rows, Columns)).ToArray();
        _output = NewTensor(d, Rows, Columns);
        _weights = Enumerable.Repeat(1f / K, K).ToArray();
    }

    /// <summary>One affine combination.</summary>
    [Benchmark]
    public void Affine() => Kernels.Affine(_inputs, _weights, 0f, _output);
}
