using ILGPU;
using ILGPU.Runtime;

namespace PeftNative.Backends.Ilgpu;

/// <summary>
/// Affine combination <c>out[j] = c + Σ_i w_i · x_i[j]</c> on an ILGPU accelerator: the k inputs
/// are uploaded side by side into one buffer, each output element is accumulated in f32 in input
/// order and rounded once. The output is a separate device buffer, so an output that is the very
/// memory of an input (in-place update) needs no special care.
/// </summary>
internal static class IlgpuAffine
{
    /// <summary>The kernel: a grid-stride loop over the elements.</summary>
    internal static void Kernel<TIn, EIn, TOut, EOut>(ArrayView<TIn> inputs, ArrayView<float> weights, int count, long length, float constant, ArrayView<TOut> output)
        where TIn : unmanaged where EIn : struct, IIlgpuElement<TIn>
        where TOut : unmanaged where EOut : struct, IIlgpuElement<TOut>
    {
        long stride = (long)Grid.DimX * Group.DimX;
        for (long j = Grid.GlobalLinearIndex; j < length; j += stride)
        {
            float sum = constant;
            for (int i = 0; i < count; i++)
                sum += weights[i] * default(EIn).Load(inputs, i * length + j);
            default(EOut).Store(output, j, sum);
        }
    }

    /// <summary>Runs the combination; arguments are valid and non-empty.</summary>
    public static void Run(IlgpuDevice device, ReadOnlySpan<Tensor> inputs, ReadOnlySpan<float> weights, float constant, Tensor output)
    {
        switch ((inputs[0].DType, output.DType))
        {
            case (DType.F32, DType.F32): Launch<float, IlgpuF32, float, IlgpuF32>(device, inputs, weights, constant, output); break;
            case (DType.F32, DType.F16): Launch<float, IlgpuF32, ushort, IlgpuF16>(device, inputs, weights, constant, output); break;
            case (DType.F32, DType.BF16): Launch<float, IlgpuF32, ushort, IlgpuBF16>(device, inputs, weights, constant, output); break;
            case (DType.F16, DType.F32): Launch<ushort, IlgpuF16, float, IlgpuF32>(device, inputs, weights, constant, output); break;
            case (DType.F16, DType.F16): Launch<ushort, IlgpuF16, ushort, IlgpuF16>(device, inputs, weights, constant, output); break;
            case (DType.F16, DType.BF16): Launch<ushort, IlgpuF16, ushort, IlgpuBF16>(device, inputs, weights, constant, output); break;
            case (DType.BF16, DType.F32): Launch<ushort, IlgpuBF16, float, IlgpuF32>(device, inputs, weights, constant, output); break;
            case (DType.BF16, DType.F16): Launch<ushort, IlgpuBF16, ushort, IlgpuF16>(device, inputs, weights, constant, output); break;
            default: Launch<ushort, IlgpuBF16, ushort, IlgpuBF16>(device, inputs, weights, constant, output); break;
        }
    }

    private static void Launch<TIn, EIn, TOut, EOut>(IlgpuDevice device, ReadOnlySpan<Tensor> inputs, ReadOnlySpan<float> weights, float constant, Tensor output)
        where TIn : unmanaged where EIn : struct, IIlgpuElement<TIn>
        where TOut : unmanaged where EOut : struct, IIlgpuElement<TOut>
    {
        long n = output.ElementCount;
        int k = inputs.Length;
        using var x = device.Allocate<TIn>(k * n);
        using var w = device.Allocate<float>(k);
        using var y = device.Allocate<TOut>(n);
        for (int i = 0; i < k; i++)
            IlgpuDevice.Upload(inputs[i], x.View.SubView(i * n, n));
        w.View.CopyFromCPU(ref System.Runtime.InteropServices.MemoryMarshal.GetReference(weights), k);
        var launch = device.Kernel<Action<ArrayView<TIn>, ArrayView<float>, int, long, float, ArrayView<TOut>>, Action<KernelConfig, ArrayView<TIn>, ArrayView<float>, int, long, float, ArrayView<TOut>>>(
            Kernel<TIn, EIn, TOut, EOut>, static (a, k) => a.LoadStreamKernel(k));
        launch(device.Config(n), x.View, w.View, k, n, constant, y.View);
        device.Download(y.View, output);
    }
}
