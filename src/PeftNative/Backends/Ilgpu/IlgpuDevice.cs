using System.Collections.Concurrent;
using System.Reflection;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using ILGPU;
using ILGPU.Runtime;
using ILGPU.Runtime.CPU;
using ILGPU.Runtime.Cuda;

namespace PeftNative.Backends.Ilgpu;

/// <summary>
/// One ILGPU context and accelerator with its compiled kernels, shared by every
/// <see cref="IlgpuBackend"/> of the process that runs on it: creating a context and compiling
/// a kernel cost hundreds of milliseconds, a backend is cheap. Devices live until the process
/// ends (ILGPU's threads are background threads); the buffers of each call are allocated and
/// disposed within the call. ILGPU accelerators are not thread safe, so calls take
/// <see cref="Enter"/> and run one at a time.
/// </summary>
internal sealed unsafe class IlgpuDevice
{
    /// <summary>Threads per group on the CPU accelerator (ILGPU's minimum warp size).</summary>
    private const int CpuThreadsPerGroup = 2;

    /// <summary>Threads per group on a GPU.</summary>
    private const int GpuGroupSize = 256;

    /// <summary>Resident groups per multiprocessor that a grid-stride launch asks for on a GPU.</summary>
    private const int GpuGroupsPerMultiprocessor = 8;

    private static readonly Lazy<(IlgpuDevice? Device, string? Failure, bool Found)> CudaDevice = new(ProbeCuda);
    private static readonly ConcurrentDictionary<int, Lazy<IlgpuDevice>> CpuDevices = new();
    private static readonly string DriverName = OperatingSystem.IsWindows() ? "nvcuda.dll" : "libcuda.so.1";

    private readonly ConcurrentDictionary<MethodInfo, Delegate> _kernels = new();
    private readonly Lock _gate = new();

    private IlgpuDevice(Context context, Accelerator accelerator, string description)
    {
        Context = context;
        Accelerator = accelerator;
        Description = description;
    }

    /// <summary>The ILGPU context (kept alive with the accelerator).</summary>
    public Context Context { get; }

    /// <summary>The accelerator the kernels run on.</summary>
    public Accelerator Accelerator { get; }

    /// <summary>True for a CUDA GPU, false for the CPU accelerator.</summary>
    public bool IsGpu => Accelerator.AcceleratorType == AcceleratorType.Cuda;

    /// <summary>e.g. "cuda: NVIDIA H100 80GB HBM3, 79 GiB" or "cpu accelerator (testing), 2 threads".</summary>
    public string Description { get; }

    /// <summary>True when ILGPU lists a CUDA device (which may still fail to start: see <see cref="TryGetCuda"/>).</summary>
    public static bool CudaDeviceFound => CudaDevice.Value.Found;

    /// <summary>The process's CUDA device, created on first use; false with the reason when there is none.</summary>
    public static bool TryGetCuda(out IlgpuDevice? device, out string? reason)
    {
        (device, reason, _) = CudaDevice.Value;
        return device is not null;
    }

    /// <summary>The process's CPU accelerator for about <paramref name="threads"/> threads (rounded up to whole groups).</summary>
    public static IlgpuDevice Cpu(int threads)
    {
        int groups = Math.Max(1, (threads + CpuThreadsPerGroup - 1) / CpuThreadsPerGroup);
        return CpuDevices.GetOrAdd(groups, static g => new Lazy<IlgpuDevice>(() => CreateCpu(g))).Value;
    }

    /// <summary>Takes the device for one call (binds the accelerator to this thread); dispose to release.</summary>
    public Scope Enter()
    {
        _gate.Enter();
        try
        {
            Accelerator.Bind();
        }
        catch
        {
            _gate.Exit();
            throw;
        }
        return new Scope(_gate);
    }

    /// <summary>The launcher of a kernel, compiled on first use and cached per generic instantiation.</summary>
    public TLauncher Kernel<TKernel, TLauncher>(TKernel kernel, Func<Accelerator, TKernel, TLauncher> load)
        where TKernel : Delegate where TLauncher : Delegate =>
        (TLauncher)_kernels.GetOrAdd(kernel.Method, _ => load(Accelerator, kernel));

    /// <summary>
    /// Grid for a grid-stride kernel over <paramref name="work"/> items: on a GPU enough groups of
    /// 256 to fill every multiprocessor (fewer for small work); on the CPU accelerator one group per
    /// simulated multiprocessor, each thread walking a long stride (one ILGPU thread per element is
    /// about 1000 times slower there).
    /// </summary>
    public KernelConfig Config(long work)
    {
        if (!IsGpu)
            return new KernelConfig(Accelerator.NumMultiprocessors, Accelerator.MaxNumThreadsPerGroup);
        int group = Math.Min(GpuGroupSize, Accelerator.MaxNumThreadsPerGroup);
        long wanted = (work + group - 1) / group;
        long most = (long)Accelerator.NumMultiprocessors * GpuGroupsPerMultiprocessor;
        return new KernelConfig((int)Math.Clamp(wanted, 1, most), group);
    }

    /// <summary>A device buffer of <paramref name="length"/> elements (the caller disposes it).</summary>
    public MemoryBuffer1D<T, Stride1D.Dense> Allocate<T>(long length) where T : unmanaged =>
        Accelerator.Allocate1D<T>(length);

    /// <summary>Copies a tensor's elements (as <typeparamref name="T"/>) to the device.</summary>
    public static void Upload<T>(Tensor tensor, ArrayView1D<T, Stride1D.Dense> target) where T : unmanaged
    {
        target.CopyFromCPU(ref Unsafe.AsRef<T>((void*)tensor.Pointer), tensor.ElementCount);
        GC.KeepAlive(tensor);
    }

    /// <summary>Copies device elements into a tensor and waits for the copy.</summary>
    public void Download<T>(ArrayView1D<T, Stride1D.Dense> source, Tensor tensor) where T : unmanaged
    {
        source.CopyToCPU(ref Unsafe.AsRef<T>((void*)tensor.Pointer), tensor.ElementCount);
        Accelerator.Synchronize();
        GC.KeepAlive(tensor);
    }

    private static IlgpuDevice CreateCpu(int groups)
    {
        var context = Context.Create(builder => builder.CPU(new CPUDevice(CpuThreadsPerGroup, 1, groups)).Math(MathMode.Default));
        try
        {
            var accelerator = context.GetCPUDevice(0).CreateAccelerator(context);
            int threads = groups * CpuThreadsPerGroup;
            return new IlgpuDevice(context, accelerator, $"cpu accelerator (testing), {threads} thread{(threads == 1 ? "" : "s")}");
        }
        catch
        {
            context.Dispose();
            throw;
        }
    }

    private static (IlgpuDevice?, string?, bool) ProbeCuda()
    {
        // Checking for the driver first keeps a machine without one from paying for an ILGPU context.
        if (!NativeLibrary.TryLoad(DriverName, out _))
            return (null, $"no CUDA driver ({DriverName} cannot be loaded)", false);
        bool found = false;
        Context? context = null;
        try
        {
            context = Context.Create(builder => builder.Cuda().Math(MathMode.Default));
            var devices = context.GetCudaDevices();
            if (devices.Count == 0)
            {
                context.Dispose();
                return (null, "the CUDA driver loads but ILGPU finds no CUDA device", false);
            }
            found = true;
            var accelerator = devices[0].CreateAccelerator(context);
            string name = $"cuda: {accelerator.Name}, {accelerator.MemorySize >> 30} GiB, {accelerator.NumMultiprocessors} SMs";
            return (new IlgpuDevice(context, accelerator, name), null, true);
        }
#pragma warning disable CA1031 // any failure becomes the one-line reason the factory and the tests report
        catch (Exception e)
#pragma warning restore CA1031
        {
            context?.Dispose();
            return (null, $"ILGPU cannot use the CUDA device: {e.GetType().Name}: {e.Message.Split('\n', 2)[0].Trim()}", found);
        }
    }

    /// <summary>Holds the device's lock for one call.</summary>
    public readonly ref struct Scope
    {
        private readonly Lock _gate;

        internal Scope(Lock gate) => _gate = gate;

        /// <summary>Releases the device.</summary>
        public void Dispose() => _gate.Exit();
    }
}
