using PeftNative.Backends;
using PeftNative.Backends.Cuda;

namespace PeftNative.Tests.Backends.Cuda;

/// <summary>
/// How the CUDA backend reports itself on any machine (these run without a GPU): unavailable
/// means a one-line reason, an explicit request fails with that reason, and automatic selection
/// falls back quietly (no GPU is the usual state of a CPU machine).
/// </summary>
[TestFixture]
public class CudaAvailabilityTests
{
    [Test]
    public void IsAvailable_GivesAOneLineReasonWhenNot()
    {
        if (CudaBackend.IsAvailable(out string? reason))
        {
            Assert.That(reason, Is.Null);
            return;
        }
        Assert.That(reason, Is.Not.Null.And.Not.Empty);
        Assert.That(reason, Does.Not.Contain('\n'));
        Assert.That(reason, Does.Contain("libpeft_native_cuda").Or.Contain("cuda").IgnoreCase);
    }

    [Test]
    public void ExplicitCuda_WithoutDevice_ThrowsWithTheReason()
    {
        if (CudaBackend.IsAvailable(out _))
            Assert.Ignore("a CUDA device is present: nothing to refuse");
        var ex = Assert.Catch(() => KernelBackendFactory.Create("cuda").Dispose());
        Assert.That(ex, Is.InstanceOf<DllNotFoundException>().Or.InstanceOf<PlatformNotSupportedException>());
        Assert.That(ex!.Message, Does.Contain("libpeft_native_cuda").Or.Contain("no CUDA device"));
    }

    [Test]
    public void Auto_WithoutADevice_FallsBackQuietly()
    {
        if (CudaBackend.IsAvailable(out _))
            Assert.Ignore("a CUDA device is present: auto picks it");
        var lines = new List<string>();
        using var backend = KernelBackendFactory.Create("auto", diagnostics: lines.Add);
        Assert.That(backend.Name, Is.Not.EqualTo("cuda"));
        Assert.That(lines, Has.None.Contains("cuda"));
    }
}
