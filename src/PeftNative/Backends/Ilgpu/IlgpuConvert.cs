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
        switch ((source.DType, destination.DType))
        {
            case (DType.F32, DType.F16): Launch<float, IlgpuF32, ushort, IlgpuF16>(device, source, destination); break;
            case (DType.F32, DType.BF16): Launch<float, IlgpuF32, ushort, IlgpuBF16>(device, source, destination); break;
            case (DType.F16, DType.F32): Launch<ushort, IlgpuF16, float, IlgpuF32>(device, source, destination); break;
            case (DType.F16, DType.BF16): Launch<ushort, IlgpuF16, ushort, IlgpuBF16>(device, source, destination); break;
            case (DType.BF16, DType.F32): Launch<ushort, IlgpuBF16, float, IlgpuF32>(device, source, destination); break;
            case (DType.BF16, DType.F16): Launch<ushort, IlgpuBF16, ushort, IlgpuF16>(device, source, destination); break;
            case (DType.F32, DType.F32): Copy<float>(device, source, destination); break;
            default: Copy<ushort>(device, source, destination); break;
        }
    }

    private static void Launch<TIn, EIn, TOut, EOut>(IlgpuDevice device, Tensor source, Tensor destination)
        where TIn : unmanaged where EIn : struct, IIlgpuElement<TIn>
        where TOut : unmanaged where EOut : struct, IIlgpuElement<TOut>
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

    private static void Copy<T>(IlgpuDevice device, Tensor source, Tensor destination) where T : unmanaged
    {
        using var x = device.Allocate<T>(source.ElementCount);
        IlgpuDevice.Upload(source, x.View);
        device.Download(x.View, destination);
    }
}
