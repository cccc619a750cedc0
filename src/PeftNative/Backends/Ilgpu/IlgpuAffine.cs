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
        var launch = new Launch(device, inputs, weights, constant, output);
        IlgpuDTypeDispatch.Pair(inputs[0].DType, output.DType, ref launch);
    }

    private readonly ref struct Launch : IIlgpuPairLaunch
    {
        private readonly IlgpuDevice _device;
        private readonly ReadOnlySpan<Tensor> _inputs;
        private readonly ReadOnlySpan<float> _weights;
        private readonly float _constant;
        private readonly Tensor _output;

        public Launch(IlgpuDevice device, ReadOnlySpan<Tensor> inputs, ReadOnlySpan<float> weights, float constant, Tensor output)
        {
            _device = device;
            _inputs = inputs;
            _weights = weights;
            _constant = constant;
            _output = output;
        }

        void IIlgpuPairLaunch.Launch<TIn, EIn, TOut, EOut>()
        {
            long n = _output.ElementCount;
            int k = _inputs.Length;
            using var x = _device.Allocate<TIn>(k * n);
            using var w = _device.Allocate<float>(k);
            using var y = _device.Allocate<TOut>(n);
            for (int i = 0; i < k; i++)
                IlgpuDevice.Upload(_inputs[i], x.View.SubView(i * n, n));
            w.View.CopyFromCPU(ref System.Runtime.InteropServices.MemoryMarshal.GetReference(_weights), k);
            var launch = _device.Kernel<Action<ArrayView<TIn>, ArrayView<float>, int, long, float, ArrayView<TOut>>, Action<KernelConfig, ArrayView<TIn>, ArrayView<float>, int, long, float, ArrayView<TOut>>>(
                Kernel<TIn, EIn, TOut, EOut>, static (a, kernel) => a.LoadStreamKernel(kernel));
            launch(_device.Config(n), x.View, w.View, k, n, _constant, y.View);
            _device.Download(y.View, _output);
        }
    }
}
