using ILGPU;
using ILGPU.Runtime;

namespace PeftNative.Backends.Ilgpu;

/// <summary>
/// (IA)^3 row or column scaling in place on an ILGPU accelerator: <c>W[i, j] *= l[i]</c> (rows)
/// or <c>l[j]</c> (columns); the inverse multiplies by 1/l rounded to f32, as every backend does.
/// </summary>
internal static class IlgpuScale
{
    /// <summary>The kernel: a grid-stride loop over W's elements.</summary>
    internal static void Kernel<TW, EW, TL, EL>(ArrayView<TW> weight, ArrayView<TL> scale, long rows, long cols, int byRow, int inverse)
        where TW : unmanaged where EW : struct, IIlgpuElement<TW>
        where TL : unmanaged where EL : struct, IIlgpuElement<TL>
    {
        long stride = (long)Grid.DimX * Group.DimX;
        long n = rows * cols;
        for (long j = Grid.GlobalLinearIndex; j < n; j += stride)
        {
            long row = j / cols;
            float factor = default(EL).Load(scale, byRow != 0 ? row : j - row * cols);
            if (inverse != 0)
                factor = 1f / factor;
            default(EW).Store(weight, j, default(EW).Load(weight, j) * factor);
        }
    }

    /// <summary>Runs the scaling; arguments are valid and non-empty.</summary>
    public static void Run(IlgpuDevice device, Tensor weight, Tensor scale, bool inverse, bool rows)
    {
        switch ((weight.DType, scale.DType))
        {
            case (DType.F32, DType.F32): Launch<float, IlgpuF32, float, IlgpuF32>(device, weight, scale, inverse, rows); break;
            case (DType.F32, DType.F16): Launch<float, IlgpuF32, ushort, IlgpuF16>(device, weight, scale, inverse, rows); break;
            case (DType.F32, DType.BF16): Launch<float, IlgpuF32, ushort, IlgpuBF16>(device, weight, scale, inverse, rows); break;
            case (DType.F16, DType.F32): Launch<ushort, IlgpuF16, float, IlgpuF32>(device, weight, scale, inverse, rows); break;
            case (DType.F16, DType.F16): Launch<ushort, IlgpuF16, ushort, IlgpuF16>(device, weight, scale, inverse, rows); break;
            case (DType.F16, DType.BF16): Launch<ushort, IlgpuF16, ushort, IlgpuBF16>(device, weight, scale, inverse, rows); break;
            case (DType.BF16, DType.F32): Launch<ushort, IlgpuBF16, float, IlgpuF32>(device, weight, scale, inverse, rows); break;
            case (DType.BF16, DType.F16): Launch<ushort, IlgpuBF16, ushort, IlgpuF16>(device, weight, scale, inverse, rows); break;
            default: Launch<ushort, IlgpuBF16, ushort, IlgpuBF16>(device, weight, scale, inverse, rows); break;
        }
    }

    private static void Launch<TW, EW, TL, EL>(IlgpuDevice device, Tensor weight, Tensor scale, bool inverse, bool rows)
        where TW : unmanaged where EW : struct, IIlgpuElement<TW>
        where TL : unmanaged where EL : struct, IIlgpuElement<TL>
    {
        using var w = device.Allocate<TW>(weight.ElementCount);
        using var l = device.Allocate<TL>(scale.ElementCount);
        IlgpuDevice.Upload(weight, w.View);
        IlgpuDevice.Upload(scale, l.View);
        var launch = device.Kernel<Action<ArrayView<TW>, ArrayView<TL>, long, long, int, int>, Action<KernelConfig, ArrayView<TW>, ArrayView<TL>, long, long, int, int>>(
            Kernel<TW, EW, TL, EL>, static (a, k) => a.LoadStreamKernel(k));
        launch(device.Config(weight.ElementCount), w.View, l.View, weight.Rows, weight.Columns, rows ? 1 : 0, inverse ? 1 : 0);
        device.Download(w.View, weight);
    }
}
