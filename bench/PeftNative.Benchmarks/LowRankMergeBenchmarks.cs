using BenchmarkDotNet.Attributes;
using PeftNative.Backends;

namespace PeftNative.Benchmarks;

/// <summary>
/// W += s · B @ A in place (factors of W's dtype); bytes = 2 · |W| (the factors are small),
/// flops = 2 · rows · cols · r. The sign of s alternates so W stays where it started.
/// </summary>
public class LowRankMergeBenchmarks : KernelBenchmark
{
    /// <summary>dtype of W and of the factors.</summary>
    [Params("f32", "bf16", "f16")]
    public string DType { get; set; } = "f32";

    /// <summary>LoRA rank r.</summary>
    [Params(16, 64)]
    public int Rank { get; set; } = 16;

    private Tensor _w = null!;
    private LowRankUpdate[] _plus = [];
    private LowRankUpdate[] _minus = [];
    private bool _flip;

    /// <inheritdoc />
    public override long BytesPerOperation => 2 * Elements * DTypeInfo.Parse(DType).SizeOf();

    /// <inheritdoc />
    protected override void Allocate()
    {
        var d = DTypeInfo.Parse(DType);
        _w = NewTensor(d, Rows, Columns);
        var b = NewFilled(d, 0.01f, Rows, Rank);
        var a = NewFilled(d, 0.01f, Rank, Columns);
        _plus = [new LowRankUpdate(b, a, 2f / Rank)];
        _minus = [new LowRankUpdate(b, a, -2f / Rank)];
    }

    /// <summary>One merge.</summary>
    [Benchmark]
    public void LowRankMerge()
    {
        _flip = !_flip;
        Kernels.LowRankMerge(_w, _flip ? _plus : _minus, fanInFanOut: false);
    }
}
