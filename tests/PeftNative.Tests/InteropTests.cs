using System.Reflection;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics.X86;
using System.Runtime.Loader;
using System.Text.RegularExpressions;
using PeftNative.Backends.NativeCpu;
using PeftNative.Interop;

namespace PeftNative.Tests;

/// <summary>
/// The C ABI and its managed side: frozen enum values and struct layouts, status → exception
/// mapping, the loader's probe trace (re-probed in a fresh AssemblyLoadContext, because the
/// loader probes once per process), capabilities against what .NET and /proc/cpuinfo see, ISA
/// selection, and the native argument checks (the backstop behind managed validation) leaving
/// buffers untouched.
/// </summary>
[TestFixture]
[NonParallelizable]
public unsafe partial class InteropTests
{
    private static void RequireNative()
    {
        if (!TestBackends.NativeAvailable)
            Assert.Ignore($"libpeft_native is not usable here: {TestBackends.NativeFailure}");
    }

    [Test]
    public void AbiValues_AreFrozen()
    {
        using (Assert.EnterMultipleScope())
        {
            Assert.That((int)NativeStatus.Ok, Is.Zero);
            Assert.That((int)NativeStatus.InvalidArgument, Is.EqualTo(1));
            Assert.That((int)NativeStatus.Unsupported, Is.EqualTo(2));
            Assert.That((int)NativeStatus.OutOfMemory, Is.EqualTo(3));
            Assert.That((int)NativeStatus.Internal, Is.EqualTo(4));
            Assert.That((int)NativeDType.F32, Is.Zero);
            Assert.That((int)NativeDType.F16, Is.EqualTo(1));
            Assert.That((int)NativeDType.BF16, Is.EqualTo(2));
            Assert.That((int)NativeIsa.Scalar, Is.Zero);
            Assert.That((int)NativeIsa.Avx2, Is.EqualTo(1));
            Assert.That((int)NativeIsa.Avx512, Is.EqualTo(2));
            Assert.That(sizeof(NativeCapabilities), Is.EqualTo(48));
            Assert.That(sizeof(NativeLowRankFactor), Is.EqualTo(32));
            Assert.That(Marshal.OffsetOf<NativeLowRankFactor>(nameof(NativeLowRankFactor.Scale)), Is.EqualTo((nint)24));
            Assert.That(Marshal.OffsetOf<NativeCapabilities>(nameof(NativeCapabilities.ActiveIsa)), Is.EqualTo((nint)44));
            Assert.That(NativeMethods.AbiVersion, Is.EqualTo(1));
            Assert.That(NativeMethods.AffineStream, Is.EqualTo(1u));
            Assert.That(NativeMethods.LibraryName, Is.EqualTo("peft_native"));
            Assert.That(NativeLibraryLoader.PathVariable, Is.EqualTo("PEFTNATIVE_NATIVE_PATH"));
        }
    }

    [Test]
    public void ThrowIfFailed_Ok_DoesNothing() => Assert.DoesNotThrow(() => NativeLibraryLoader.ThrowIfFailed(NativeStatus.Ok));

    [Test]
    public void ThrowIfFailed_MapsEveryStatus()
    {
        RequireNative();
        Assert.Throws<ArgumentException>(() => NativeLibraryLoader.ThrowIfFailed(NativeStatus.InvalidArgument));
        Assert.Throws<PlatformNotSupportedException>(() => NativeLibraryLoader.ThrowIfFailed(NativeStatus.Unsupported));
        Assert.Throws<OutOfMemoryException>(() => NativeLibraryLoader.ThrowIfFailed(NativeStatus.OutOfMemory));
        var internalError = Assert.Throws<PeftNativeException>(() => NativeLibraryLoader.ThrowIfFailed(NativeStatus.Internal));
        Assert.That(internalError!.Status, Is.EqualTo(NativeStatus.Internal));
        var unknown = Assert.Throws<PeftNativeException>(() => NativeLibraryLoader.ThrowIfFailed((NativeStatus)42));
        Assert.That(unknown!.Status, Is.EqualTo((NativeStatus)42));
    }

    [Test]
    public void ThrowIfFailed_CarriesTheNativeMessage()
    {
        RequireNative();
        float* buf = stackalloc float[4];
        void* input = buf;
        float w = 1f;
        var status = NativeMethods.pn_cpu_affine(7, 0, 4, 1, &input, &w, 0f, buf, 1); // dtype 7 does not exist
        Assert.That(status, Is.EqualTo(NativeStatus.InvalidArgument));
        string message = NativeLibraryLoader.LastError();
        Assert.That(message, Is.Not.Empty, "a failed call must leave a message in pn_last_error");
        var e = Assert.Throws<ArgumentException>(() => NativeLibraryLoader.ThrowIfFailed(status));
        Assert.That(e!.Message, Does.Contain(message));
    }

    [Test]
    public void LoadTrace_RecordsTheProbes()
    {
        RequireNative();
        string trace = NativeLibraryLoader.LoadTrace;
        Assert.That(trace, Does.Contain(": loaded"), trace);
        Assert.That(NativeLibraryLoader.TryEnsureLoaded(out string? failure), Is.True);
        Assert.That(failure, Is.Null);
        Assert.DoesNotThrow(NativeLibraryLoader.EnsureLoaded);
        Assert.That(NativeLibraryLoader.LoadTrace, Is.EqualTo(trace), "the loader probes once per process");
    }

    [Test]
    public void FreshProbe_MissingExplicitPath_IsRecordedInTheTrace_AndTheSearchGoesOn()
    {
        string missing = Path.Combine(Path.GetTempPath(), $"peftnative-missing-{Environment.ProcessId}", "libpeft_native.so");
        var (ok, failure, trace) = ProbeInFreshContext(missing);
        Assert.That(trace, Does.Contain($"{missing}: not found"), trace);
        Assert.That(trace, Does.Contain("runtimes"), "the search goes on past the explicit path");
        if (ok)
            Assert.That(trace, Does.Contain(": loaded"));
        else
            Assert.That(failure, Does.Contain(missing), "the failure message carries the probe trace");
        Assert.That(ok, Is.EqualTo(TestBackends.NativeAvailable), "the explicit path missing must not change what else is found");
    }

    [Test]
    public void FreshProbe_ExplicitPathThatIsNotALibrary_IsRecorded()
    {
        string file = Path.Combine(Path.GetTempPath(), $"peftnative-not-a-library-{Environment.ProcessId}.so");
        File.WriteAllText(file, "this is not an ELF file");
        try
        {
            var (_, _, trace) = ProbeInFreshContext(file);
            Assert.That(trace, Does.Contain($"{file}: exists but failed to load"), trace);
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Test]
    public void FreshProbe_ALibraryWithoutTheAbiExport_IsAFailureNotAnException()
    {
        string? libm = new[] { "/lib/x86_64-linux-gnu/libm.so.6", "/usr/lib/x86_64-linux-gnu/libm.so.6", "/lib64/libm.so.6" }.FirstOrDefault(File.Exists);
        if (libm is null)
            Assert.Ignore("no libm.so.6 at the usual paths");
        (bool ok, string? failure, string trace) result = default;
        Assert.DoesNotThrow(() => result = ProbeInFreshContext(libm), "the loader is documented never to throw while probing");
        if (!result.ok)
            Assert.That(result.failure, Does.Contain(libm));
        Assert.That(result.trace, Does.Contain(libm));
    }

    [Test]
    public void Version_AndAbi()
    {
        RequireNative();
        Assert.That(NativeMethods.pn_abi_version(), Is.EqualTo(NativeMethods.AbiVersion));
        string version = Marshal.PtrToStringUTF8((nint)NativeMethods.pn_version()) ?? "";
        Assert.That(version, Does.Match(@"^\d+\.\d+\.\d+"));
    }

    [Test]
    public void Capabilities_MatchTheCpu()
    {
        RequireNative();
        var caps = NativeCpuBackend.QueryCapabilities();
        string flags = CpuFlags();
        using (Assert.EnterMultipleScope())
        {
            Assert.That(caps.StructSize, Is.EqualTo((uint)sizeof(NativeCapabilities)));
            Assert.That(caps.HasAvx2 != 0, Is.EqualTo(Avx2.IsSupported), "has_avx2");
            Assert.That(caps.HasFma != 0, Is.EqualTo(Fma.IsSupported), "has_fma");
            Assert.That(caps.HasAvx512F != 0, Is.EqualTo(Avx512F.IsSupported), "has_avx512f");
            Assert.That(caps.HasAvx512Bw != 0, Is.EqualTo(Avx512BW.IsSupported), "has_avx512bw");
            Assert.That(caps.HasAvx512Vl != 0, Is.EqualTo(Avx512F.VL.IsSupported), "has_avx512vl");
            if (flags.Length > 0)
            {
                Assert.That(caps.HasF16c != 0, Is.EqualTo(HasFlag(flags, "f16c")), "has_f16c vs /proc/cpuinfo");
                Assert.That(caps.HasAvx512Bf16 != 0, Is.EqualTo(HasFlag(flags, "avx512_bf16")), "has_avx512_bf16 vs /proc/cpuinfo");
            }
            Assert.That(caps.LogicalCpus, Is.EqualTo(Environment.ProcessorCount), "logical_cpus (affinity mask)");
            Assert.That(caps.DefaultThreads, Is.InRange(1, caps.LogicalCpus));
            int best = caps.HasAvx512F != 0 && caps.HasAvx512Bw != 0 && caps.HasAvx512Vl != 0 ? 2
                : caps.HasAvx2 != 0 && caps.HasFma != 0 && caps.HasF16c != 0 ? 1 : 0;
            Assert.That(caps.BestIsa, Is.EqualTo(best), "best_isa follows the feature bits");
            Assert.That(caps.ActiveIsa, Is.InRange(0, caps.BestIsa));
        }
    }

    [Test]
    public void SetIsa_UnsupportedLevel_FailsAndKeepsTheActiveOne()
    {
        RequireNative();
        var caps = NativeCpuBackend.QueryCapabilities();
        try
        {
            Assert.That(NativeMethods.pn_set_isa(0), Is.EqualTo(NativeStatus.Ok));
            Assert.That(NativeCpuBackend.QueryCapabilities().ActiveIsa, Is.Zero);
            Assert.That(NativeMethods.pn_set_isa(99), Is.EqualTo(NativeStatus.Unsupported).Or.EqualTo(NativeStatus.InvalidArgument));
            if (caps.BestIsa < 2)
            {
                Assert.That(NativeMethods.pn_set_isa(2), Is.EqualTo(NativeStatus.Unsupported));
                Assert.That(NativeLibraryLoader.LastError(), Is.Not.Empty);
                Assert.That(NativeCpuBackend.QueryCapabilities().ActiveIsa, Is.Zero, "a refused level leaves the active one");
                Assert.Throws<PlatformNotSupportedException>(() => _ = new NativeCpuBackend(1, NativeIsa.Avx512));
            }
            Assert.That(NativeMethods.pn_set_isa(-1), Is.EqualTo(NativeStatus.Ok));
            Assert.That(NativeCpuBackend.QueryCapabilities().ActiveIsa, Is.EqualTo(caps.BestIsa), "-1 restores the best level");
        }
        finally
        {
            NativeMethods.pn_set_isa(-1);
        }
    }

    [Test]
    public void DefaultBackend_RunsAtTheBestIsa_AfterAForcedOne()
    {
        RequireNative();
        try
        {
            using var src = Tensor.Allocate(DType.F32, 64);
            using var dst = Tensor.Allocate(DType.F16, 64);
            using (var scalar = new NativeCpuBackend(1, NativeIsa.Scalar))
                scalar.Convert(src, dst);
            Assert.That(NativeCpuBackend.QueryCapabilities().ActiveIsa, Is.EqualTo((int)NativeIsa.Scalar));
            using var best = new NativeCpuBackend(1);
            Assert.That(best.Isa, Is.EqualTo((NativeIsa)TestBackends.NativeCaps.BestIsa));
            best.Convert(src, dst);
            Assert.That(NativeCpuBackend.QueryCapabilities().ActiveIsa, Is.EqualTo(TestBackends.NativeCaps.BestIsa),
                "a NativeCpuBackend without a forced ISA reports Isa = best, so its kernels must run at the best level even after another instance forced a lower one");
        }
        finally
        {
            NativeMethods.pn_set_isa(-1);
        }
    }

    [Test]
    public void Backend_DescribesItself()
    {
        RequireNative();
        using var b = new NativeCpuBackend(2, NativeIsa.Scalar);
        Assert.That(b.Name, Is.EqualTo("native-cpu"));
        Assert.That(b.Threads, Is.EqualTo(2));
        Assert.That(b.Isa, Is.EqualTo(NativeIsa.Scalar));
        Assert.That(b.Description, Is.EqualTo("scalar, 2 threads"));
        using var all = new NativeCpuBackend(0);
        Assert.That(all.Threads, Is.EqualTo(Environment.ProcessorCount));
    }

    [Test]
    public void NativeChecks_RejectBadArguments_AndWriteNothing()
    {
        RequireNative();
        const int n = 64;
        float[] data = Enumerable.Range(1, 2 * n).Select(i => i * 0.25f).ToArray();
        float[] before = (float[])data.Clone();
        fixed (float* p = data)
        {
            void* input = p;
            void** inputs = &input;
            float w = 2f;
            void Expect(string what, NativeStatus status)
            {
                Assert.That(status, Is.EqualTo(NativeStatus.InvalidArgument), what);
                Assert.That(NativeLibraryLoader.LastError(), Is.Not.Empty, $"{what}: pn_last_error");
                Assert.That(data, Is.EqualTo(before), $"{what}: a failed call must write nothing");
            }
            Expect("affine: output overlaps the input partially", NativeMethods.pn_cpu_affine(0, 0, n, 1, inputs, &w, 0f, p + 1, 1));
            Expect("affine: in place across dtypes", NativeMethods.pn_cpu_affine(0, 1, n, 1, inputs, &w, 0f, p, 1));
            Expect("affine: k = 0", NativeMethods.pn_cpu_affine(0, 0, n, 0, inputs, &w, 0f, p + n, 1));
            Expect("affine: n < 0", NativeMethods.pn_cpu_affine(0, 0, -1, 1, inputs, &w, 0f, p + n, 1));
            Expect("affine: null inputs", NativeMethods.pn_cpu_affine(0, 0, n, 1, null, &w, 0f, p + n, 1));
            Expect("affine: null output", NativeMethods.pn_cpu_affine(0, 0, n, 1, inputs, &w, 0f, null, 1));
            Expect("affine: bad out dtype", NativeMethods.pn_cpu_affine(0, 3, n, 1, inputs, &w, 0f, p + n, 1));
            Expect("convert: partial overlap", NativeMethods.pn_cpu_convert(0, p, 1, (byte*)p + 2, n, 1));
            Expect("convert: f32 -> f16 on the same pointer", NativeMethods.pn_cpu_convert(0, p, 1, p, n, 1));
            Expect("convert: bad dtype", NativeMethods.pn_cpu_convert(5, p, 0, p + n, n, 1));

            float[] l = [1f, 2f, 0f, 4f];
            fixed (float* pl = l)
            {
                Expect("scale_rows: inverse with l[2] == 0", NativeMethods.pn_cpu_scale_rows(0, p, 4, 16, 0, pl, 1, 1));
                Assert.That(NativeLibraryLoader.LastError(), Does.Contain('2'), "the message names the index");
                Expect("scale_cols: inverse with l[2] == 0", NativeMethods.pn_cpu_scale_cols(0, p, 16, 4, 0, pl, 1, 1));
                Expect("scale_rows: l inside W", NativeMethods.pn_cpu_scale_rows(0, p, 4, 16, 0, p + 3, 0, 1));
            }

            float[] b = Enumerable.Repeat(0.5f, 8 * 2).ToArray();
            float[] a = Enumerable.Repeat(0.25f, 2 * 8).ToArray();
            fixed (float* pb = b, pa = a)
            {
                var factor = new NativeLowRankFactor { B = pb, A = pa, DType = 0, Rank = 2, Scale = 1f, Reserved = 0 };
                var reserved = factor with { Reserved = 1 };
                var rank0 = factor with { Rank = 0 };
                var inside = factor with { A = p + 4 };
                var badDType = factor with { DType = 9 };
                Expect("merge: reserved != 0", NativeMethods.pn_cpu_lowrank_merge(0, p, 8, 8, 0, 1, &reserved, 1));
                Expect("merge: rank 0", NativeMethods.pn_cpu_lowrank_merge(0, p, 8, 8, 0, 1, &rank0, 1));
                Expect("merge: A inside W", NativeMethods.pn_cpu_lowrank_merge(0, p, 8, 8, 0, 1, &inside, 1));
                Expect("merge: bad factor dtype", NativeMethods.pn_cpu_lowrank_merge(0, p, 8, 8, 0, 1, &badDType, 1));
                Expect("merge: negative size", NativeMethods.pn_cpu_lowrank_merge(0, p, -8, 8, 0, 1, &factor, 1));
                NativeLowRankFactor* two = stackalloc NativeLowRankFactor[2];
                two[0] = factor;
                two[1] = reserved;
                Expect("merge: second factor bad (nothing written for the first either)", NativeMethods.pn_cpu_lowrank_merge(0, p, 8, 8, 0, 2, two, 1));
            }
        }
        Assert.That(NativeMethods.pn_get_capabilities(null), Is.EqualTo(NativeStatus.InvalidArgument), "pn_get_capabilities(NULL)");
    }

    [Test]
    public void Probes_Run_AndTheMemoryProbeLeavesFiniteDataAsItWas()
    {
        RequireNative();
        const int count = 1 << 18;
        var rng = RandomTensors.For("probe-rmw");
        using var buffer = RandomTensors.Create(rng, DType.F32, [count]);
        var before = RandomTensors.Bytes(buffer);
        double seconds = -1, gflops = -1, bf16 = -1;
        Assert.That(NativeMethods.pn_probe_memory_rmw((void*)buffer.Pointer, buffer.ByteLength, 2, 1, &seconds), Is.EqualTo(NativeStatus.Ok), NativeLibraryLoader.LastError());
        Assert.That(seconds, Is.GreaterThan(0));
        Assert.That(RandomTensors.Bytes(buffer), Is.EqualTo(before), "w * 1.0f + 0.0f leaves finite data as it was");
        Assert.That(NativeMethods.pn_probe_fma_f32(5, 1, &gflops), Is.EqualTo(NativeStatus.Ok), NativeLibraryLoader.LastError());
        Assert.That(gflops, Is.GreaterThan(0));
        Assert.That(NativeMethods.pn_probe_bf16_dot(5, 1, &bf16), Is.EqualTo(NativeStatus.Ok), NativeLibraryLoader.LastError());
        Assert.That(bf16, Is.GreaterThan(0));
    }

    /// <summary>Loads a second copy of PeftNative.Interop (fresh static state) and probes with PEFTNATIVE_NATIVE_PATH set.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static (bool Ok, string? Failure, string Trace) ProbeInFreshContext(string explicitPath)
    {
        string? saved = Environment.GetEnvironmentVariable(NativeLibraryLoader.PathVariable);
        var context = new AssemblyLoadContext($"probe-{Guid.NewGuid():N}", isCollectible: true);
        try
        {
            Environment.SetEnvironmentVariable(NativeLibraryLoader.PathVariable, explicitPath);
            string interopPath = Path.Combine(AppContext.BaseDirectory, "PeftNative.Interop.dll");
            Assembly copy = context.LoadFromAssemblyPath(interopPath);
            Type loader = copy.GetType(typeof(NativeLibraryLoader).FullName!, throwOnError: true)!;
            object?[] args = [null];
            bool ok;
            try
            {
                ok = (bool)loader.GetMethod(nameof(NativeLibraryLoader.TryEnsureLoaded))!.Invoke(null, args)!;
            }
            catch (TargetInvocationException e) when (e.InnerException is not null)
            {
                throw e.InnerException;
            }
            string trace = (string)loader.GetProperty(nameof(NativeLibraryLoader.LoadTrace))!.GetValue(null)!;
            return (ok, (string?)args[0], trace);
        }
        finally
        {
            Environment.SetEnvironmentVariable(NativeLibraryLoader.PathVariable, saved);
            context.Unload();
        }
    }

    private static string CpuFlags()
    {
        try
        {
            return File.Exists("/proc/cpuinfo")
                ? File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("flags", StringComparison.Ordinal)) ?? ""
                : "";
        }
        catch (IOException)
        {
            return "";
        }
    }

    private static bool HasFlag(string flags, string flag) => FlagPattern().Split(flags).Contains(flag);

    [GeneratedRegex(@"[\s:]+")]
    private static partial Regex FlagPattern();
}
