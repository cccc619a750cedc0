using BenchmarkDotNet.Attributes;

namespace PeftNative.Benchmarks;

/// <summary>(IA)^3 scaling in place by l = 1 (W unchanged), of rows or columns; bytes = 2 · |W|.</summary>
public class ScaleBenchmarks : KernelBenchmark
{
    /// <summary>dtype of W and l.</summary>
    [Params("f32", "bf16", "f16")]
    public string DType { get; set; } = "f32";

    /// <summary>"rows" (scale_rows) or "cols" (scale_cols).</summary>
    [Params("rows", "cols")]
    public string Axis { get; set; } = "rows";

    private Tensor _w = null!;
    private Tensor _l = null!;

    /// <inheritdoc />
    public override long BytesPerOperation => 2 * Elements * DTypeInfo.Parse(DType).SizeOf();

    /// <inheritdoc />
    protected override void Allocate()
    {
        var d = DTypeInfo.Parse(DType);
        _w = NewTensor(d, Rows, Columns);
        _l = NewFilled(d, 1f, Axis == "rows" ? Rows : Columns);
    }

    /// <summary>One scaling.</summary>
    [Benchmark]
    public void Scale()
    {
        if (Axis == "rows")
            Kernels.ScaleRows(_w, _l, inverse: false);
        else
            Kernels.ScaleColumns(_w, _l, inverse: false);
    }
}
