using BenchmarkDotNet.Attributes;

namespace PeftNative.Benchmarks;

/// <summary>dtype conversion into a separate buffer; bytes = n · (source size + destination size).</summary>
public class ConvertBenchmarks : KernelBenchmark
{
    /// <summary>"src->dst".</summary>
    [Params("f32->bf16", "bf16->f32", "f32->f16", "f16->f32")]
    public string Conversion { get; set; } = "f32->bf16";

    private Tensor _source = null!;
    private Tensor _destination = null!;

    private DType Source => DTypeInfo.Parse(Conversion.Split("->")[0]);

    private DType Destination => DTypeInfo.Parse(Conversion.Split("->")[1]);

    /// <inheritdoc />
    public override long BytesPerOperation => Elements * (Source.SizeOf() + Destination.SizeOf());

    /// <inheritdoc />
    protected override void Allocate()
    {
        _source = NewTensor(Source, Rows, Columns);
        _destination = NewTensor(Destination, Rows, Columns);
    }

    /// <summary>One conversion.</summary>
    [Benchmark]
    public void Convert() => Kernels.Convert(_source, _destination);
}
