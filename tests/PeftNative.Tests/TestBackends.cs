using System.Runtime.ExceptionServices;
using PeftNative.Backends;
using PeftNative.Backends.Cuda;
using PeftNative.Backends.Ilgpu;
using PeftNative.Backends.Managed;
using PeftNative.Backends.NativeCpu;
using PeftNative.Backends.Reference;
using PeftNative.Interop;

namespace PeftNative.Tests;

/// <summary>
/// One backend configuration under test: a name for messages (backend, ISA or vector width,
/// threads) and a way to create it. Creating a native-cpu configuration when libpeft_native
/// cannot be loaded calls <see cref="Assert.Ignore(string)"/> with the loader's reason, so such a
/// case is reported as skipped, never as a silent pass. (<see cref="NativeRequirementTests"/>
/// turns that into a failure in CI.)
/// </summary>
public sealed class BackendConfig
{
    private readonly Func<IKernelBackend> _create;

    internal BackendConfig(string label, BackendKind kind, Func<IKernelBackend> create)
    {
        Label = label;
        Kind = kind;
        _create = create;
    }

    /// <summary>"native-cpu/avx2/t2", "managed/v256/t1", "reference".</summary>
    public string Label { get; }

    /// <summary>Which backend family.</summary>
    public BackendKind Kind { get; }

    /// <summary>Creates the backend (ignores the test when it cannot run here).</summary>
    public IKernelBackend Create()
    {
        if (Kind == BackendKind.NativeCpu && !TestBackends.NativeAvailable)
            Assert.Ignore($"{Label}: libpeft_native is not usable here: {TestBackends.NativeFailure}");
        if (Kind == BackendKind.IlgpuCuda && !IlgpuBackend.IsCudaAvailable(out string? noGpu))
            Assert.Ignore($"{Label}: no CUDA device: {noGpu}");
        if (Kind == BackendKind.Cuda && !CudaBackend.IsAvailable(out string? cudaReason))
            Assert.Ignore($"no CUDA device: {cudaReason}");
        try
        {
            return Kind == BackendKind.Reference ? _create() : new WatchdogBackend(_create(), Label);
        }
        catch (PlatformNotSupportedException e) when (Kind == BackendKind.Managed)
        {
            Assert.Ignore($"{Label}: not supported on this CPU: {e.Message}");
            throw; // unreachable
        }
    }

    /// <inheritdoc />
    public override string ToString() => Label;
}

/// <summary>Backend families.</summary>
public enum BackendKind
{
    /// <summary>The float64 oracle.</summary>
    Reference,
    /// <summary>libpeft_native through P/Invoke.</summary>
    NativeCpu,
    /// <summary>System.Runtime.Intrinsics code.</summary>
    Managed,
    /// <summary>The ILGPU kernels on ILGPU's CPU accelerator (runs everywhere).</summary>
    Ilgpu,
    /// <summary>The ILGPU kernels on a CUDA GPU (test category "Gpu"; ignored without one).</summary>
    IlgpuCuda,
    /// <summary>libpeft_native_cuda on the first GPU (ignored with the reason when there is none).</summary>
    Cuda,
}

/// <summary>
/// The backend configurations every kernel test runs on: native-cpu × each ISA the CPU has
/// (Scalar..BestIsa) × threads {1, 2} (and 3 on the best ISA), managed × {Scalar, V128, V256,
/// V512} × threads {1, 2} (and Auto × 3), ilgpu on its CPU accelerator (2 threads) and on a CUDA
/// GPU (category "Gpu": ignored with the reason when there is none). The reference backend is the oracle: it only runs in
/// the hand-computed tests and tiny sanity cases.
/// </summary>
public static class TestBackends
{
    private static readonly Lazy<(bool Ok, string? Failure, NativeCapabilities Caps)> Native = new(ProbeNative);

    /// <summary>True when libpeft_native loads and answers pn_get_capabilities.</summary>
    public static bool NativeAvailable => Native.Value.Ok;

    /// <summary>Why native-cpu cannot run (the loader's trace), or null.</summary>
    public static string? NativeFailure => Native.Value.Failure;

    /// <summary>Capabilities of the loaded library (default when unavailable).</summary>
    public static NativeCapabilities NativeCaps => Native.Value.Caps;

    /// <summary>True when CI=true or PEFTNATIVE_REQUIRE_NATIVE=1: native-cpu must be testable.</summary>
    public static bool NativeRequired =>
        string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase)
        || Environment.GetEnvironmentVariable("PEFTNATIVE_REQUIRE_NATIVE") == "1";

    /// <summary>The ISA levels native-cpu is tested at (Scalar..BestIsa; Scalar and Avx2 when unavailable, so the cases show up as ignored).</summary>
    public static IReadOnlyList<NativeIsa> NativeIsas =>
        NativeAvailable
            ? Enumerable.Range(0, NativeCaps.BestIsa + 1).Select(i => (NativeIsa)i).ToArray()
            : [NativeIsa.Scalar, NativeIsa.Avx2];

    /// <summary>The reference backend.</summary>
    public static BackendConfig Reference { get; } = new("reference", BackendKind.Reference, () => new ReferenceBackend());

    // The ilgpu and cuda configurations are declared before Kernel and Best, whose initializers read them.

    /// <summary>ilgpu on its CPU accelerator, 2 threads: the ILGPU kernels tested on every run.</summary>
    public static BackendConfig IlgpuCpu { get; } = new("ilgpu/cpu/t2", BackendKind.Ilgpu, () => new IlgpuBackend(2, IlgpuAcceleratorKind.Cpu));

    /// <summary>ilgpu on the first CUDA GPU (creating it ignores the test when there is none).</summary>
    public static BackendConfig IlgpuCuda { get; } = new("ilgpu/cuda", BackendKind.IlgpuCuda, () => new IlgpuBackend(0, IlgpuAcceleratorKind.Cuda));

    /// <summary>The CUDA configuration (device 0).</summary>
    public static BackendConfig Cuda { get; } = new("cuda/d0", BackendKind.Cuda, () => new CudaBackend());

    /// <summary>Every non-reference configuration.</summary>
    public static IReadOnlyList<BackendConfig> Kernel { get; } = BuildKernelConfigs();

    /// <summary>One configuration per backend family at its best setting (for property tests).</summary>
    public static IReadOnlyList<BackendConfig> Best { get; } =
    [
        NativeConfig(NativeAvailable ? (NativeIsa)NativeCaps.BestIsa : NativeIsa.Avx2, 2),
        ManagedConfig(ManagedVectorWidth.Auto, 2),
        IlgpuCpu,
        IlgpuCuda,
    ];

    /// <summary>
    /// A test case on <paramref name="backend"/>. ilgpu cases carry the category "Ilgpu" (so
    /// <c>--filter TestCategory=Ilgpu</c> selects them), those on a GPU also "Gpu".
    /// </summary>
    public static TestCaseData Case(BackendConfig backend, params object[] rest)
    {
        ArgumentNullException.ThrowIfNull(backend);
        var data = new TestCaseData([backend, .. rest]);
        if (backend.Kind is BackendKind.Ilgpu or BackendKind.IlgpuCuda)
            data.SetCategory("Ilgpu");
        if (backend.Kind is BackendKind.IlgpuCuda or BackendKind.Cuda)
            data.SetCategory("Gpu");
        return data;
    }

    /// <summary>TestCaseSource: each kernel configuration.</summary>
    public static IEnumerable<TestCaseData> KernelCases() => Kernel.Select(b => Case(b));

    /// <summary>TestCaseSource: each kernel configuration plus the reference.</summary>
    public static IEnumerable<TestCaseData> AllCases() => Kernel.Prepend(Reference).Select(b => Case(b));

    /// <summary>TestCaseSource: the best configuration of each family.</summary>
    public static IEnumerable<TestCaseData> BestCases() => Best.Select(b => Case(b));

    /// <summary>TestCaseSource: kernel configuration × kernel dtype.</summary>
    public static IEnumerable<TestCaseData> KernelByDType() =>
        from b in Kernel from d in KernelDTypes select Case(b, d);

    /// <summary>TestCaseSource: kernel configuration × input dtype × output dtype.</summary>
    public static IEnumerable<TestCaseData> KernelByDTypePair() =>
        from b in Kernel from i in KernelDTypes from o in KernelDTypes select Case(b, i, o);

    /// <summary>TestCaseSource: kernel configuration × W dtype × fan_in_fan_out.</summary>
    public static IEnumerable<TestCaseData> KernelByDTypeAndTranspose() =>
        from b in Kernel from d in KernelDTypes from t in new[] { false, true } select Case(b, d, t);

    /// <summary>The dtypes the kernels compute on.</summary>
    public static readonly DType[] KernelDTypes = [DType.F32, DType.F16, DType.BF16];

    private static List<BackendConfig> BuildKernelConfigs()
    {
        var list = new List<BackendConfig>();
        var isas = NativeIsas;
        foreach (var isa in isas)
            foreach (int t in new[] { 1, 2 })
                list.Add(NativeConfig(isa, t));
        list.Add(NativeConfig(isas[^1], 3));
        foreach (var w in new[] { ManagedVectorWidth.Scalar, ManagedVectorWidth.V128, ManagedVectorWidth.V256, ManagedVectorWidth.V512 })
            foreach (int t in new[] { 1, 2 })
                list.Add(ManagedConfig(w, t));
        list.Add(ManagedConfig(ManagedVectorWidth.Auto, 3));
        list.Add(IlgpuCpu);
        list.Add(IlgpuCuda);
        list.Add(Cuda);
        return list;
    }

    private static BackendConfig NativeConfig(NativeIsa isa, int threads) =>
        new($"native-cpu/{isa.ToString().ToLowerInvariant()}/t{threads}", BackendKind.NativeCpu, () => new NativeCpuBackend(threads, isa));

    private static BackendConfig ManagedConfig(ManagedVectorWidth width, int threads) =>
        new($"managed/{width.ToString().ToLowerInvariant()}/t{threads}", BackendKind.Managed, () => new ManagedBackend(threads, width));

    private static (bool, string?, NativeCapabilities) ProbeNative()
    {
        try
        {
            if (!NativeCpuBackend.IsAvailable(out string? reason))
                return (false, reason ?? "no reason given", default);
            return (true, null, NativeCpuBackend.QueryCapabilities());
        }
#pragma warning disable CA1031 // any failure to load is reported as the reason, the contract says the loader never throws
        catch (Exception e)
#pragma warning restore CA1031
        {
            return (false, $"probing libpeft_native threw {e.GetType().Name}: {e.Message} (the loader is documented never to throw)", default);
        }
    }
}

/// <summary>native-cpu must really be tested in CI.</summary>
[TestFixture]
public class NativeRequirementTests
{
    [Test]
    public void NativeLibrary_IsUsable_WhenRequired()
    {
        if (TestBackends.NativeAvailable)
        {
            Assert.That(TestBackends.NativeCaps.BestIsa, Is.InRange(0, 2));
            return;
        }
        if (TestBackends.NativeRequired)
            Assert.Fail($"CI=true or PEFTNATIVE_REQUIRE_NATIVE=1, but libpeft_native is not usable: {TestBackends.NativeFailure}");
        Assert.Ignore($"libpeft_native is not usable (set CI=true or PEFTNATIVE_REQUIRE_NATIVE=1 to make this a failure): {TestBackends.NativeFailure}");
    }
}

/// <summary>
/// Runs every kernel call of a backend on a helper thread and fails the test when the call does
/// not return within <see cref="Timeout"/>: a deadlock in a backend's thread pool becomes one
/// failing test that names the call, instead of a test run that hangs until CI kills it.
/// </summary>
public sealed class WatchdogBackend : IKernelBackend
{
    /// <summary>How long one kernel call may take.</summary>
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    private readonly IKernelBackend _inner;
    private readonly string _label;

    /// <summary>Wraps <paramref name="inner"/>.</summary>
    public WatchdogBackend(IKernelBackend inner, string label)
    {
        _inner = inner;
        _label = label;
    }

    /// <summary>The wrapped backend.</summary>
    public IKernelBackend Inner => _inner;

    /// <inheritdoc />
    public string Name => _inner.Name;

    /// <inheritdoc />
    public string Description => _inner.Description;

    /// <inheritdoc />
    public int Threads => _inner.Threads;

    /// <inheritdoc />
    public void Affine(ReadOnlySpan<Tensor> inputs, ReadOnlySpan<float> weights, float constant, Tensor output)
    {
        var i = inputs.ToArray();
        var w = weights.ToArray();
        Run($"affine (k={i.Length}, output {output})", () => _inner.Affine(i, w, constant, output));
    }

    /// <inheritdoc />
    public bool AffineReportingNonFinite(ReadOnlySpan<Tensor> inputs, ReadOnlySpan<float> weights, float constant, Tensor output)
    {
        var i = inputs.ToArray();
        var w = weights.ToArray();
        bool report = false;
        Run($"affine reporting non-finite (k={i.Length}, output {output})", () => report = _inner.AffineReportingNonFinite(i, w, constant, output));
        return report;
    }

    /// <inheritdoc />
    public void LowRankMerge(Tensor weight, ReadOnlySpan<LowRankUpdate> updates, bool fanInFanOut)
    {
        var u = updates.ToArray();
        Run($"lowrank_merge (W {weight}, {u.Length} updates, fan_in_fan_out={fanInFanOut})", () => _inner.LowRankMerge(weight, u, fanInFanOut));
    }

    /// <inheritdoc />
    public void ScaleRows(Tensor weight, Tensor scale, bool inverse) =>
        Run($"scale_rows (W {weight})", () => _inner.ScaleRows(weight, scale, inverse));

    /// <inheritdoc />
    public void ScaleColumns(Tensor weight, Tensor scale, bool inverse) =>
        Run($"scale_cols (W {weight})", () => _inner.ScaleColumns(weight, scale, inverse));

    /// <inheritdoc />
    public void Convert(Tensor source, Tensor destination) =>
        Run($"convert ({source} -> {destination})", () => _inner.Convert(source, destination));

    /// <inheritdoc />
    public void Dispose() => _inner.Dispose();

    /// <inheritdoc />
    public override string ToString() => _inner.ToString() ?? _label;

    private void Run(string what, Action call)
    {
        ExceptionDispatchInfo? error = null;
        var thread = new Thread(() =>
        {
            try
            {
                call();
            }
#pragma warning disable CA1031 // rethrown on the test thread
            catch (Exception e)
#pragma warning restore CA1031
            {
                error = ExceptionDispatchInfo.Capture(e);
            }
        })
        { IsBackground = true, Name = "kernel-watchdog" };
        thread.Start();
        if (!thread.Join(Timeout))
            Assert.Fail($"{_label} {what} did not return within {Timeout.TotalSeconds} s (deadlock?). The call is abandoned on a background thread.");
        error?.Throw();
    }
}
