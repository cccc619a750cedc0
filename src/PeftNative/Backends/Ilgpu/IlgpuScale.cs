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
        var launch = new Launch(device, weight, scale, inverse, rows);
        IlgpuDTypeDispatch.Pair(weight.DType, scale.DType, ref launch);
    }

    private readonly struct Launch(IlgpuDevice device, Tensor weight, Tensor scale, bool inverse, bool rows) : IIlgpuPairLaunch
    {
        void IIlgpuPairLaunch.Launch<TW, EW, TL, EL>()
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
}
