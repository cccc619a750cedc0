using PeftNative.Backends;
using PeftNative.Backends.Managed;
using PeftNative.Backends.NativeCpu;
using PeftNative.Backends.Reference;

namespace PeftNative.Tests;

/// <summary>
/// <see cref="KernelBackendFactory"/>: names, explicit name over PEFTNATIVE_BACKEND over auto,
/// unknown names, auto's choice and its one-line diagnostic. The environment variable is restored
/// after every test.
/// </summary>
[TestFixture]
[NonParallelizable]
public class FactoryTests
{
    private string? _savedEnv;

    [SetUp]
    public void SaveEnvironment() => _savedEnv = Environment.GetEnvironmentVariable(KernelBackendFactory.EnvironmentVariable);

    [TearDown]
    public void RestoreEnvironment() => Environment.SetEnvironmentVariable(KernelBackendFactory.EnvironmentVariable, _savedEnv);

    [Test]
    public void Names_AreTheDocumentedOnes()
    {
        Assert.That(KernelBackendFactory.EnvironmentVariable, Is.EqualTo("PEFTNATIVE_BACKEND"));
        Assert.That(KernelBackendFactory.Names, Is.EqualTo(new[] { "auto", "native-cpu", "managed", "reference", "ilgpu" }));
    }

    [TestCase("reference", typeof(ReferenceBackend))]
    [TestCase("managed", typeof(ManagedBackend))]
    [TestCase("  MANAGED ", typeof(ManagedBackend))]
    [TestCase("Reference", typeof(ReferenceBackend))]
    public void ExplicitName_CreatesThatBackend(string name, Type type)
    {
        Environment.SetEnvironmentVariable(KernelBackendFactory.EnvironmentVariable, null);
        using var backend = KernelBackendFactory.Create(name, threads: 2, diagnostics: _ => Assert.Fail("no diagnostics expected"));
        Assert.That(backend, Is.InstanceOf(type));
        Assert.That(backend.Name, Is.EqualTo(name.Trim().ToLowerInvariant()));
        Assert.That(backend.ToString(), Does.StartWith(backend.Name + " ("));
    }

    [Test]
    public void Threads_AreHonoured()
    {
        using var two = KernelBackendFactory.Create("managed", threads: 2);
        using var all = KernelBackendFactory.Create("managed", threads: 0);
        using var negative = KernelBackendFactory.Create("managed", threads: -3);
        using var reference = KernelBackendFactory.Create("reference", threads: 8);
        Assert.That(two.Threads, Is.EqualTo(2));
        Assert.That(all.Threads, Is.EqualTo(Environment.ProcessorCount));
        Assert.That(negative.Threads, Is.EqualTo(Environment.ProcessorCount));
        Assert.That(reference.Threads, Is.EqualTo(1), "the reference is single-threaded whatever it is asked");
    }

    [Test]
    public void EnvironmentVariable_OverridesAuto()
    {
        Environment.SetEnvironmentVariable(KernelBackendFactory.EnvironmentVariable, "reference");
        using (var b = KernelBackendFactory.Create())
            Assert.That(b, Is.InstanceOf<ReferenceBackend>());
        using (var b = KernelBackendFactory.Create(null))
            Assert.That(b, Is.InstanceOf<ReferenceBackend>());
        using (var b = KernelBackendFactory.Create("   "))
            Assert.That(b, Is.InstanceOf<ReferenceBackend>(), "a blank name means 'use the environment'");
        Environment.SetEnvironmentVariable(KernelBackendFactory.EnvironmentVariable, " Managed ");
        using (var b = KernelBackendFactory.Create())
            Assert.That(b, Is.InstanceOf<ManagedBackend>());
    }

    [Test]
    public void ExplicitName_WinsOverEnvironment()
    {
        Environment.SetEnvironmentVariable(KernelBackendFactory.EnvironmentVariable, "reference");
        using var b = KernelBackendFactory.Create("managed");
        Assert.That(b, Is.InstanceOf<ManagedBackend>());
    }

    [Test]
    public void UnknownName_Throws()
    {
        Environment.SetEnvironmentVariable(KernelBackendFactory.EnvironmentVariable, null);
        var e = Assert.Throws<ArgumentException>(() => KernelBackendFactory.Create("cuda-9000"));
        Assert.That(e!.Message, Does.Contain("cuda-9000").And.Contain("native-cpu").And.Contain("managed").And.Contain("reference"));
        Environment.SetEnvironmentVariable(KernelBackendFactory.EnvironmentVariable, "bogus");
        var fromEnv = Assert.Throws<ArgumentException>(() => KernelBackendFactory.Create());
        Assert.That(fromEnv!.Message, Does.Contain("bogus"));
    }

    [Test]
    public void EmptyEnvironment_MeansAuto()
    {
        Environment.SetEnvironmentVariable(KernelBackendFactory.EnvironmentVariable, "");
        var lines = new List<string>();
        using var b = KernelBackendFactory.Create(diagnostics: lines.Add);
        Assert.That(b.Name, Is.EqualTo(TestBackends.NativeAvailable ? "native-cpu" : "managed"));
    }

    [Test]
    public void Auto_PicksNativeCpu_WhenAvailable_ElseManagedWithOneLine()
    {
        Environment.SetEnvironmentVariable(KernelBackendFactory.EnvironmentVariable, null);
        var lines = new List<string>();
        using var b = KernelBackendFactory.Create("auto", diagnostics: lines.Add);
        if (TestBackends.NativeAvailable)
        {
            Assert.That(b, Is.InstanceOf<NativeCpuBackend>());
            Assert.That(lines, Is.Empty, "no diagnostics when nothing falls back");
            Assert.That(((NativeCpuBackend)b).Isa, Is.EqualTo((Interop.NativeIsa)TestBackends.NativeCaps.BestIsa));
        }
        else
        {
            Assert.That(b, Is.InstanceOf<ManagedBackend>());
            Assert.That(lines, Has.Count.EqualTo(1));
            Assert.That(lines[0], Does.StartWith("peftnative: native-cpu backend unavailable (").And.EndWith("); using managed"));
            Assert.That(lines[0], Does.Not.Contain('\n'), "the reason is one line");
        }
    }

    [Test]
    public void NativeCpu_ExplicitlyNamed_ThrowsWithTheTrace_WhenUnavailable()
    {
        if (TestBackends.NativeAvailable)
        {
            using var b = KernelBackendFactory.Create("native-cpu", threads: 1);
            Assert.That(b, Is.InstanceOf<NativeCpuBackend>());
            Assert.That(b.Description, Does.Contain("1 thread"));
            return;
        }
        var e = Assert.Throws<DllNotFoundException>(() => KernelBackendFactory.Create("native-cpu"));
        Assert.That(e!.Message, Does.Contain("libpeft_native"));
    }
}
