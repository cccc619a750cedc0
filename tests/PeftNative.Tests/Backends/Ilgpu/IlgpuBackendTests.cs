using PeftNative.Backends;
using PeftNative.Backends.Ilgpu;
using PeftNative.Backends.Reference;
using PeftNative.Benchmarking;

namespace PeftNative.Tests.Backends.Ilgpu;

/// <summary>
/// <see cref="IlgpuBackend"/> beyond the kernel tests it shares with every backend (those run
/// through <see cref="TestBackends"/> as "ilgpu/cpu/t2" and "ilgpu/cuda"): accelerator selection,
/// the shared device, the factory and the bench harness. Runs on any machine.
/// </summary>
[TestFixture]
[Category("Ilgpu")]
[NonParallelizable]
public class IlgpuBackendTests
{
    [Test]
    public void CpuAccelerator_IsDescribedAsForTesting()
    {
        using var backend = new IlgpuBackend(2, IlgpuAcceleratorKind.Cpu);
        Assert.That(backend.Name, Is.EqualTo("ilgpu"));
        Assert.That(backend.Accelerator, Is.EqualTo(IlgpuAcceleratorKind.Cpu));
        Assert.That(backend.Threads, Is.EqualTo(2));
        Assert.That(backend.Description, Is.EqualTo("cpu accelerator (testing), 2 threads"));
        Assert.That(backend.ToString(), Is.EqualTo("ilgpu (cpu accelerator (testing), 2 threads)"));
    }

    [Test]
    public void CudaAccelerator_WithoutAGpu_ThrowsWithTheReason()
    {
        if (IlgpuBackend.IsCudaAvailable(out string? reason))
        {
            using var gpu = new IlgpuBackend(0, IlgpuAcceleratorKind.Cuda);
            Assert.That(gpu.Accelerator, Is.EqualTo(IlgpuAcceleratorKind.Cuda));
            return;
        }
        Assert.That(reason, Is.Not.Null.And.Not.Empty.And.Not.Contain('\n'), "the reason is one line");
        var e = Assert.Throws<PlatformNotSupportedException>(() => _ = new IlgpuBackend(0, IlgpuAcceleratorKind.Cuda));
        Assert.That(e!.Message, Does.StartWith("ilgpu: no CUDA device: ").And.Contain(reason!));
    }

    [Test]
    public void Auto_TakesTheGpuWhenUsable_ElseTheCpuAccelerator()
    {
        using var backend = new IlgpuBackend(2);
        var expected = IlgpuBackend.IsCudaAvailable(out _) ? IlgpuAcceleratorKind.Cuda : IlgpuAcceleratorKind.Cpu;
        Assert.That(backend.Accelerator, Is.EqualTo(expected));
        Assert.That(IlgpuBackend.IsAvailable(out string? reason), Is.True, reason);
        Assert.That(reason, Is.Null);
    }

    [Test]
    public void UndefinedAcceleratorKind_Throws() =>
        Assert.Throws<ArgumentOutOfRangeException>(() => _ = new IlgpuBackend(1, (IlgpuAcceleratorKind)42));

    /// <summary>Backends share the process's device: disposing one leaves another working, and odd thread counts round up to whole groups.</summary>
    [Test]
    public void Backends_ShareTheDevice_DisposingOneLeavesTheOthersWorking()
    {
        var rng = RandomTensors.For("ilgpu-shared");
        using var x = RandomTensors.Create(rng, DType.F32, [1031]);
        using var first = new IlgpuBackend(2, IlgpuAcceleratorKind.Cpu);
        using (var second = new IlgpuBackend(2, IlgpuAcceleratorKind.Cpu))
        {
            using var y = Tensor.Allocate(DType.BF16, 1031);
            second.Convert(x, y);
        }
        using var three = new IlgpuBackend(3, IlgpuAcceleratorKind.Cpu);
        Assert.That(three.Description, Is.EqualTo("cpu accelerator (testing), 4 threads"), "ILGPU's smallest CPU group is 2 threads");
        foreach (var backend in new[] { first, three })
        {
            using var expected = Tensor.Allocate(DType.F16, 1031);
            using var got = new GuardedTensor(rng, DType.F16, [1031], fillRandom: false);
            got.Poison();
            using (var reference = new ReferenceBackend())
                reference.Affine([x], [0.5f], 0.25f, expected);
            backend.Affine([x], [0.5f], 0.25f, got.View);
            got.AssertGuardsIntact($"{backend} after another backend was disposed");
            Tolerances.AssertClose($"{backend} after another backend was disposed", got.View, RandomTensors.ToDoubles(expected), null, 1);
        }
    }

    [Test]
    public void Factory_CreatesIlgpuByName_AndAutoNeverPicksTheCpuAccelerator()
    {
        string? saved = Environment.GetEnvironmentVariable(KernelBackendFactory.EnvironmentVariable);
        try
        {
            Environment.SetEnvironmentVariable(KernelBackendFactory.EnvironmentVariable, null);
            using (var named = KernelBackendFactory.Create(" ILGPU ", threads: 2, diagnostics: line => Assert.Fail($"unexpected diagnostics: {line}")))
                Assert.That(named, Is.InstanceOf<IlgpuBackend>());
            Environment.SetEnvironmentVariable(KernelBackendFactory.EnvironmentVariable, "ilgpu");
            using (var fromEnv = KernelBackendFactory.Create())
                Assert.That(fromEnv, Is.InstanceOf<IlgpuBackend>());
            Environment.SetEnvironmentVariable(KernelBackendFactory.EnvironmentVariable, null);
            var lines = new List<string>();
            using var auto = KernelBackendFactory.Create("auto", threads: 2, diagnostics: lines.Add);
            if (IlgpuBackend.IsCudaAvailable(out _))
                Assert.That(auto is IlgpuBackend { Accelerator: IlgpuAcceleratorKind.Cuda }, Is.True, $"auto with a usable GPU picked {auto}");
            else
                Assert.That(auto, Is.Not.InstanceOf<IlgpuBackend>(), "auto must not pick ILGPU's CPU accelerator");
            if (!IlgpuBackend.CudaDeviceFound)
                Assert.That(lines.Where(l => l.Contains("ilgpu", StringComparison.Ordinal)), Is.Empty, "ilgpu reports itself only when a CUDA device exists that it cannot use");
        }
        finally
        {
            Environment.SetEnvironmentVariable(KernelBackendFactory.EnvironmentVariable, saved);
        }
    }

    /// <summary>The bench harness knows the backend and measures it (tiny shapes on the CPU accelerator).</summary>
    [Test]
    public void BenchHarness_MeasuresIlgpu()
    {
        Assert.That(BenchOptions.KnownBackends, Does.Contain("ilgpu"));
        var report = BandwidthHarness.Run(BenchOptions.Tiny with { Backends = ["ilgpu"], Threads = 2, ManagedProbes = true });
        Assert.That(report.Errors, Is.Empty, string.Join("; ", report.Errors.Select(e => $"{e.Kernel} {e.DType}: {e.Message}")));
        Assert.That(report.Results, Is.Not.Empty);
        Assert.That(report.Results.Select(r => r.Backend).Distinct(), Is.EqualTo(new[] { "ilgpu" }));
    }
}
