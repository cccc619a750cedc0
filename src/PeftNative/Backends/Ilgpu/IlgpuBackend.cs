namespace PeftNative.Backends.Ilgpu;

/// <summary>
/// The kernels of DESIGN.md section 3 written once for ILGPU: on the first CUDA GPU when one is
/// usable, else (or when asked) on ILGPU's CPU accelerator, which exists to test the very same
/// kernels on machines without a GPU and is not meant for speed. Same arithmetic as the other
/// backends: f32 accumulation, one round-to-nearest-even when storing a 16-bit value (integer
/// bit operations, identical on every accelerator), NaN stays NaN.
/// </summary>
/// <remarks>
/// Every call uploads its tensors into device buffers, runs the kernel and downloads the result;
/// the buffers are disposed before the call returns. The ILGPU context, accelerator and compiled
/// kernels are shared by all backends of the process on the same accelerator (creating them takes
/// hundreds of milliseconds) and calls on one accelerator run one at a time. Disposing a backend
/// releases nothing shared.
/// </remarks>
public sealed class IlgpuBackend : KernelBackend
{
    private readonly IlgpuDevice _device;

    /// <summary>Creates the backend.</summary>
    /// <param name="threads">Threads of the CPU accelerator (&lt;= 0: all logical CPUs; rounded up to
    /// an even count, ILGPU's smallest group); ignored on a GPU.</param>
    /// <param name="accelerator">Which accelerator; <see cref="IlgpuAcceleratorKind.Auto"/> takes the GPU when usable.</param>
    /// <exception cref="PlatformNotSupportedException"><see cref="IlgpuAcceleratorKind.Cuda"/> was asked
    /// for but no CUDA device is usable (the message says why).</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="accelerator"/> is not a defined value.</exception>
    public IlgpuBackend(int threads = 0, IlgpuAcceleratorKind accelerator = IlgpuAcceleratorKind.Auto) : base(threads)
    {
        _device = accelerator switch
        {
            IlgpuAcceleratorKind.Auto => IlgpuDevice.TryGetCuda(out var gpu, out _) ? gpu! : IlgpuDevice.Cpu(Threads),
            IlgpuAcceleratorKind.Cuda => IlgpuDevice.TryGetCuda(out var gpu, out string? reason)
                ? gpu!
                : throw new PlatformNotSupportedException($"ilgpu: no CUDA device: {reason}"),
            IlgpuAcceleratorKind.Cpu => IlgpuDevice.Cpu(Threads),
            _ => throw new ArgumentOutOfRangeException(nameof(accelerator), accelerator, "unknown ILGPU accelerator kind"),
        };
    }

    /// <inheritdoc />
    public override string Name => "ilgpu";

    /// <summary>The accelerator, e.g. "cuda: NVIDIA H100 80GB HBM3, 79 GiB, 132 SMs" or "cpu accelerator (testing), 2 threads".</summary>
    public override string Description => _device.Description;

    /// <summary>The accelerator the kernels run on (never <see cref="IlgpuAcceleratorKind.Auto"/>).</summary>
    public IlgpuAcceleratorKind Accelerator => _device.IsGpu ? IlgpuAcceleratorKind.Cuda : IlgpuAcceleratorKind.Cpu;

    /// <summary>
    /// True when a CUDA GPU is usable through ILGPU; otherwise <paramref name="reason"/> says why in
    /// one line. Cheap on a machine without a CUDA driver (no ILGPU context is created there).
    /// </summary>
    public static bool IsCudaAvailable(out string? reason) => IlgpuDevice.TryGetCuda(out _, out reason);

    /// <summary>True when ILGPU lists a CUDA device, usable or not (so a failure to use it is worth reporting).</summary>
    public static bool CudaDeviceFound => IlgpuDevice.CudaDeviceFound;

    /// <summary>
    /// True when the backend can run here: on a CUDA GPU, or else on the CPU accelerator (which
    /// creates it, once per process); otherwise <paramref name="reason"/> says why in one line.
    /// </summary>
    public static bool IsAvailable(out string? reason)
    {
        if (IsCudaAvailable(out reason))
            return true;
        try
        {
            _ = IlgpuDevice.Cpu(Environment.ProcessorCount);
            reason = null;
            return true;
        }
#pragma warning disable CA1031 // any failure of ILGPU to start is the reason
        catch (Exception e)
#pragma warning restore CA1031
        {
            reason = $"ILGPU cannot start its CPU accelerator: {e.GetType().Name}: {e.Message.Split('\n', 2)[0].Trim()}";
            return false;
        }
    }

    /// <inheritdoc />
    protected override void AffineCore(ReadOnlySpan<Tensor> inputs, ReadOnlySpan<float> weights, float constant, Tensor output)
    {
        using var _ = _device.Enter();
        IlgpuAffine.Run(_device, inputs, weights, constant, output);
    }

    /// <inheritdoc />
    protected override void LowRankMergeCore(Tensor weight, ReadOnlySpan<LowRankUpdate> updates, bool fanInFanOut)
    {
        using var _ = _device.Enter();
        IlgpuLowRankMerge.Run(_device, weight, updates, fanInFanOut);
    }

    /// <inheritdoc />
    protected override void ScaleRowsCore(Tensor weight, Tensor scale, bool inverse)
    {
        using var _ = _device.Enter();
        IlgpuScale.Run(_device, weight, scale, inverse, rows: true);
    }

    /// <inheritdoc />
    protected override void ScaleColumnsCore(Tensor weight, Tensor scale, bool inverse)
    {
        using var _ = _device.Enter();
        IlgpuScale.Run(_device, weight, scale, inverse, rows: false);
    }

    /// <inheritdoc />
    protected override void ConvertCore(Tensor source, Tensor destination)
    {
        using var _ = _device.Enter();
        IlgpuConvert.Run(_device, source, destination);
    }
}
