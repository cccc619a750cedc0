using ILGPU;
using ILGPU.Runtime;

namespace PeftNative.Backends.Ilgpu;

/// <summary>
/// dtype conversion f32 ↔ f16 ↔ bf16 on an ILGPU accelerator through <see cref="IlgpuFloatBits"/>:
/// round to nearest even, f16 overflow to ±Inf, NaN stays NaN (quieted when narrowing or crossing
/// between f16 and bf16). A same-dtype conversion is a plain copy through the device (every bit
/// kept). The destination is written from its own device buffer, so in-place conversion between
/// f16 and bf16 needs no special care.
/// </summary>
internal static class IlgpuConvert
{
    /// <summary>The kernel: a grid-stride loop over the elements.</summary>
    internal static void Kernel<TIn, EIn, TOut, EOut>(ArrayView<TIn> source, ArrayView<TOut> destination, long length)
        where TIn : unmanaged where EIn : struct, IIlgpuElement<TIn>
        where TOut : unmanaged where EOut : struct, IIlgpuElement<TOut>
    {
        long stride = (long)Grid.DimX * Group.DimX;
        for (long j = Grid.GlobalLinearIndex; j < length; j += stride)
            default(EOut).Store(destination, j, default(EIn).Load(source, j));
    }

    /// <summary>Runs the conversion; arguments are valid and non-empty.</summary>
    public static void Run(IlgpuDevice device, Tensor source, Tensor destination)
    {
        var launch = new Launch(device, source, destination);
        if (source.DType == destination.DType)
            IlgpuDTypeDispatch.One(source.DType, ref launch);
        else
            IlgpuDTypeDispatch.Pair(source.DType, destination.DType, ref launch);
    }

    private readonly struct Launch(IlgpuDevice device, Tensor source, Tensor destination) : IIlgpuPairLaunch, IIlgpuLaunch
    {
        void IIlgpuPairLaunch.Launch<TIn, EIn, TOut, EOut>()
        {
            long n = source.ElementCount;
            using var x = device.Allocate<TIn>(n);
            using var y = device.Allocate<TOut>(n);
            IlgpuDevice.Upload(source, x.View);
            var launch = device.Kernel<Action<ArrayView<TIn>, ArrayView<TOut>, long>, Action<KernelConfig, ArrayView<TIn>, ArrayView<TOut>, long>>(
                Kernel<TIn, EIn, TOut, EOut>, static (a, k) => a.LoadStreamKernel(k));
            launch(device.Config(n), x.View, y.View, n);
            device.Download(y.View, destination);
        }

        /// <summary>Same dtype: a copy through the device.</summary>
        void IIlgpuLaunch.Launch<T, E>()
        {
            using var x = device.Allocate<T>(source.ElementCount);
            IlgpuDevice.Upload(source, x.View);
            device.Download(x.View, destination);
        }
    }
}
