using PeftNative.Backends;

namespace PeftNative.Tests.NativeApi;

/// <summary>
/// native/examples/kernels_example.c (the kernel ABI's C example, also run by ctest) compiled with the
/// system C compiler against peft_native.h and the libpeft_native.so this build ships, run on a fresh
/// seed; its numbers must be the managed API's on the same inputs: bit for bit through
/// <see cref="KernelBackendFactory"/>'s native-cpu backend (the same kernels), within the kernel
/// tolerances through the managed backend.
/// </summary>
[NonParallelizable]
public class KernelsExampleTests
{
    [Test]
    public void Example_PrintsWhatTheManagedApiComputes()
    {
        if (!TestBackends.NativeAvailable)
        {
            string why = $"libpeft_native is not usable, so its C example cannot run: {TestBackends.NativeFailure}";
            if (TestBackends.NativeRequired)
                Assert.Fail(why);
            Assert.Ignore(why);
        }
        using var dir = new SafeTensors.TempDir();
        string library = Path.Combine(AppContext.BaseDirectory, "runtimes", "linux-x64", "native", "libpeft_native.so");
        string exe = dir.File("kernels_example");
        CCompiler.Compile(Path.Combine(CCompiler.RepoRoot, "native", "examples", "kernels_example.c"),
            Path.Combine(CCompiler.RepoRoot, "native", "kernels", "include"), library, exe);

        uint seed = TestContext.CurrentContext.Random.NextUInt();
        var (rc, stdout, stderr) = ExternalProcess.Run(exe, [seed.ToString(System.Globalization.CultureInfo.InvariantCulture)], TimeSpan.FromMinutes(1));
        Assert.That(rc, Is.Zero, $"seed {seed}: the example failed:\n{stderr}\n{stdout}");
        using var output = KernelsExampleOutput.Parse(stdout);
        using (Assert.EnterMultipleScope())
        {
            Assert.That(output.ErrorStatus, Is.EqualTo((int)Interop.NativeStatus.InvalidArgument), "the bad call's status");
            Assert.That(output.ErrorMessage, Does.Contain("pn_cpu_affine").And.Contain("k must be >= 1"), "the bad call's pn_last_error()");
            Assert.That(output.Cases.Select(c => c.DType), Is.EqualTo(new[] { DType.F32, DType.BF16 }));
            Assert.That(output.Checks, Has.Count.EqualTo(2).And.All.EndsWith(" ok"));
        }
        foreach (var c in output.Cases)
            AssertSameAsManagedApi(c, new Random((int)seed), $"seed {seed}, {c.DType.ShortName()}");
    }

    private static void AssertSameAsManagedApi(ExampleCase c, Random rng, string context)
    {
        var t = c.Tensors;
        float[] weights = [c.Scalars["w1"], c.Scalars["w2"]];
        var update = new LowRankUpdate(t["B"], t["A"], c.Scalars["scale"]);
        using (var native = KernelBackendFactory.Create("native-cpu", c.Threads))
        {
            using var a = Poisoned(rng, t["A"]);
            using var b = Poisoned(rng, t["B"]);
            using var w = RandomTensors.Clone(t["W0"]);
            native.Affine([t["A1"], t["A2"]], weights, 0f, a.View);
            native.Affine([t["B1"], t["B2"]], weights, 0f, b.View);
            native.LowRankMerge(w, [update], fanInFanOut: false);
            a.AssertGuardsIntact(context + ", A");
            b.AssertGuardsIntact(context + ", B");
            using (Assert.EnterMultipleScope())
            {
                Assert.That(RandomTensors.Bytes(a.View), Is.EqualTo(RandomTensors.Bytes(t["A"])), $"{context}: A = w1*A1 + w2*A2, native-cpu through IKernelBackend");
                Assert.That(RandomTensors.Bytes(b.View), Is.EqualTo(RandomTensors.Bytes(t["B"])), $"{context}: B = w1*B1 + w2*B2, native-cpu through IKernelBackend");
                Assert.That(RandomTensors.Bytes(w), Is.EqualTo(RandomTensors.Bytes(t["W"])), $"{context}: W0 + s*B@A, native-cpu through IKernelBackend");
            }
        }
        using (var managed = KernelBackendFactory.Create("managed", c.Threads))
        {
            using var a = Poisoned(rng, t["A"]);
            using var w = RandomTensors.Clone(t["W0"]);
            managed.Affine([t["A1"], t["A2"]], weights, 0f, a.View);
            managed.LowRankMerge(w, [update], fanInFanOut: false);
            Tolerances.AssertClose($"{context}: the example's A against the managed backend", t["A"], RandomTensors.ToDoubles(a.View),
                AffineMagnitude(t["A1"], t["A2"], weights), terms: 2, t["A"].Columns);
            Tolerances.AssertClose($"{context}: the example's W against the managed backend", t["W"], RandomTensors.ToDoubles(w),
                MergeMagnitude(t["W0"], update), terms: (int)update.Rank + 1, t["W"].Columns);
        }
    }

    /// <summary>Σ|term| per element of w1*A1 + w2*A2 (the f32 accumulation error scales with it, not with a result that cancels).</summary>
    private static double[] AffineMagnitude(Tensor x, Tensor y, float[] weights) =>
        Enumerable.Range(0, (int)x.ElementCount).Select(j => Math.Abs(weights[0] * RandomTensors.Get(x, j)) + Math.Abs(weights[1] * RandomTensors.Get(y, j))).ToArray();

    /// <summary>Σ|term| per element of W0 + s*B@A.</summary>
    private static double[] MergeMagnitude(Tensor w0, LowRankUpdate u)
    {
        long inFeatures = w0.Columns, rank = u.Rank;
        var m = new double[w0.ElementCount];
        for (long o = 0; o < w0.Rows; o++)
        {
            for (long i = 0; i < inFeatures; i++)
            {
                double sum = Math.Abs(RandomTensors.Get(w0, o * inFeatures + i));
                for (long r = 0; r < rank; r++)
                    sum += Math.Abs(u.Scale * RandomTensors.Get(u.B, o * rank + r) * RandomTensors.Get(u.A, r * inFeatures + i));
                m[o * inFeatures + i] = sum;
            }
        }
        return m;
    }

    /// <summary>An output shaped like <paramref name="like"/>, guarded and filled with NaN so an unwritten element shows.</summary>
    private static GuardedTensor Poisoned(Random rng, Tensor like)
    {
        var t = new GuardedTensor(rng, like.DType, like.Shape.ToArray(), fillRandom: false);
        t.Poison();
        return t;
    }
}
