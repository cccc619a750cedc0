using System.Globalization;
using System.Runtime.InteropServices;
using BenchmarkDotNet.Attributes;
using PeftNative.Backends;

namespace PeftNative.Benchmarks;

/// <summary>
/// What every kernel suite shares: the backend and the shape as parameters, and the explicit byte
/// count of one operation that <see cref="GbpsColumn"/> turns into GB/s. The byte counts are those
/// of <c>peftnative bench</c> (PeftNative.Benchmarking.BenchCase).
/// </summary>
[Config(typeof(KernelBenchmarkConfig))]
public abstract class KernelBenchmark : IDisposable, IBytesPerOperation
{
    /// <summary>Backend under test (KernelBackendFactory name).</summary>
    [Params("native-cpu", "managed")]
    public string Backend { get; set; } = "native-cpu";

    /// <summary>W's shape "rows x cols": a realistic 4096 x 4096 and an odd 4099 x 1031 (tails everywhere).</summary>
    [Params("4096x4096", "4099x1031")]
    public string Shape { get; set; } = "4096x4096";

    /// <summary>Bytes one operation must move (read + write), computed from the parameters alone.</summary>
    public abstract long BytesPerOperation { get; }

    /// <summary>Rows of <see cref="Shape"/>.</summary>
    protected long Rows => long.Parse(Shape.Split('x')[0], CultureInfo.InvariantCulture);

    /// <summary>Columns of <see cref="Shape"/>.</summary>
    protected long Columns => long.Parse(Shape.Split('x')[1], CultureInfo.InvariantCulture);

    /// <summary>Elements of W.</summary>
    protected long Elements => Rows * Columns;

    /// <summary>The backend, created in <see cref="Setup"/>.</summary>
    protected IKernelBackend Kernels { get; private set; } = null!;

    private readonly List<Tensor> _owned = [];

    /// <summary>Creates the backend (throws with the reason when it cannot run here) and the buffers.</summary>
    [GlobalSetup]
    public void Setup()
    {
        Kernels = KernelBackendFactory.Create(Backend, threads: 0);
        Allocate();
    }

    /// <summary>Allocates the benchmark's tensors (through NewTensor and NewFilled).</summary>
    protected abstract void Allocate();

    /// <summary>A tensor whose every 16-bit half is 0x3C00: finite and normal as f32 (~0.0078), f16 (1.0) and bf16 (2^-7).</summary>
    protected Tensor NewTensor(DType dtype, params long[] shape)
    {
        var t = Tensor.Allocate(dtype, shape);
        MemoryMarshal.Cast<byte, ushort>(t.AsBytes()).Fill(0x3C00);
        _owned.Add(t);
        return t;
    }

    /// <summary>A tensor filled with <paramref name="value"/>.</summary>
    protected Tensor NewFilled(DType dtype, float value, params long[] shape)
    {
        var t = NewTensor(dtype, shape);
        switch (dtype)
        {
            case DType.F32: t.AsSpan<float>().Fill(value); break;
            case DType.F16: t.AsSpan<Half>().Fill((Half)value); break;
            default: t.AsSpan<BFloat16>().Fill(BFloat16.FromSingle(value)); break;
        }
        return t;
    }

    /// <summary>Frees the buffers and the backend.</summary>
    [GlobalCleanup]
    public void Dispose()
    {
        foreach (var t in _owned)
            t.Dispose();
        _owned.Clear();
        Kernels?.Dispose();
        GC.SuppressFinalize(this);
    }
}
