using PeftNative.Backends;
using PeftNative.Backends.Managed;
using PeftNative.Backends.NativeCpu;

namespace PeftNative.Tests.Backends;

/// <summary><see cref="MatMulFactory"/>: names, the environment variable, and the one-line fallback.</summary>
[TestFixture]
[NonParallelizable]
public class MatMulFactoryTests
{
    private string? _savedEnv;

    [SetUp]
    public void SaveEnvironment() => _savedEnv = Environment.GetEnvironmentVariable(KernelBackendFactory.EnvironmentVariable);

    [TearDown]
    public void RestoreEnvironment() => Environment.SetEnvironmentVariable(KernelBackendFactory.EnvironmentVariable, _savedEnv);

    [Test]
    public void ExplicitNames_GiveThatProduct()
    {
        Environment.SetEnvironmentVariable(KernelBackendFactory.EnvironmentVariable, "managed");
        using (var managed = MatMulFactory.Create(" Managed ", threads: 3))
        {
            Assert.That(managed, Is.TypeOf<ManagedMatMul>());
            Assert.That(managed.Name, Is.EqualTo("managed"));
            Assert.That(managed.Threads, Is.EqualTo(3));
        }
        if (!TestBackends.NativeAvailable)
            Assert.Ignore($"libpeft_native is not usable here: {TestBackends.NativeFailure}");
        using var native = MatMulFactory.Create("native-cpu", threads: 0);
        Assert.That(native, Is.TypeOf<NativeCpuMatMul>());
        Assert.That(native.Name, Is.EqualTo("native-cpu"));
        Assert.That(native.Threads, Is.EqualTo(TestBackends.NativeCaps.DefaultThreads));
    }

    [Test]
    public void UnknownName_Throws()
    {
        var e = Assert.Throws<ArgumentException>(() => MatMulFactory.Create("cuda"));
        Assert.That(e!.Message, Does.Contain("unknown matrix product 'cuda'").And.Contain("native-cpu"));
    }

    [Test]
    public void Auto_PrefersNativeAndSaysWhyWhenItFallsBack()
    {
        Environment.SetEnvironmentVariable(KernelBackendFactory.EnvironmentVariable, null);
        var lines = new List<string>();
        using var product = MatMulFactory.Create(null, 1, lines.Add);
        if (TestBackends.NativeAvailable)
        {
            Assert.That(product, Is.TypeOf<NativeCpuMatMul>());
            Assert.That(lines, Is.Empty);
        }
        else
        {
            Assert.That(product, Is.TypeOf<ManagedMatMul>());
            Assert.That(lines, Has.Count.EqualTo(1));
            Assert.That(lines[0], Does.StartWith("peftnative: native-cpu matrix product unavailable (").And.Not.Contain('\n'));
        }
    }

    [Test]
    public void EnvironmentVariable_IsHonoured()
    {
        var lines = new List<string>();
        Environment.SetEnvironmentVariable(KernelBackendFactory.EnvironmentVariable, " MANAGED ");
        using (var managed = MatMulFactory.Create(null, 1, lines.Add))
            Assert.That(managed, Is.TypeOf<ManagedMatMul>());
        Assert.That(lines, Is.Empty);

        // a kernel backend without a matrix product: auto, said in one line
        Environment.SetEnvironmentVariable(KernelBackendFactory.EnvironmentVariable, "reference");
        using (var auto = MatMulFactory.Create(null, 1, lines.Add))
            Assert.That(auto, Is.TypeOf(TestBackends.NativeAvailable ? typeof(NativeCpuMatMul) : typeof(ManagedMatMul)));
        Assert.That(lines, Has.Count.AtLeast(1));
        Assert.That(lines[0], Is.EqualTo("peftnative: PEFTNATIVE_BACKEND=reference has no matrix product; choosing one automatically"));
    }
}
