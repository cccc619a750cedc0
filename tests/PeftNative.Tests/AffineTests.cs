using CsCheck;
using PeftNative.Backends;
using PeftNative.Backends.Reference;

namespace PeftNative.Tests;

/// <summary>
/// Affine combination <c>out = c + Σ_i w_i · x_i</c> on every backend configuration and every
/// (input dtype, output dtype) pair, against the float64 reference: every length 0..150 (so every
/// vector tail runs), long lengths that get split across threads, odd matrices, k = 1..9 inputs;
/// in-place updates; argument errors leave every byte as it was.
/// </summary>
[TestFixture]
public class AffineTests
{
    private static readonly long[][] Shapes =
        [[1, 1], [1, 37], [7, 129], [67, 45], [130, 257], [257, 130], [3, 5, 7]];

    private static IEnumerable<long> Lengths()
    {
        for (long n = 0; n <= 150; n++)
            yield return n;
        foreach (long n in new long[] { 255, 256, 257, 1000, 4099, 65_537, 131_085 })
            yield return n;
    }

    [TestCaseSource(typeof(TestBackends), nameof(TestBackends.KernelByDTypePair))]
    public void MatchesReference_EveryLengthAndShape(BackendConfig config, DType inType, DType outType)
    {
        using var backend = config.Create();
        foreach (long n in Lengths())
            RunCase(backend, config, inType, outType, [n], k: 1 + (int)(n % 9));
        int k = 1;
        foreach (var shape in Shapes)
        {
            RunCase(backend, config, inType, outType, shape, k);
            k = k % 9 + 1;
        }
    }

    /// <summary>Outputs past the streaming (non-temporal store) thresholds, aligned and not, long enough for 3 threads.</summary>
    [TestCaseSource(typeof(TestBackends), nameof(TestBackends.KernelCases))]
    public void LargeOutputs_StreamingStoresAndEveryThread(BackendConfig config)
    {
        using var backend = config.Create();
        RunCase(backend, config, DType.F32, DType.F32, [2_200_013], k: 2, guardOffset: 0);
        RunCase(backend, config, DType.F32, DType.F32, [2_200_013], k: 2, guardOffset: 3);
        RunCase(backend, config, DType.F16, DType.BF16, [4_200_011], k: 1, guardOffset: 0);
    }

    /// <summary>
    /// Tiny magnitudes: f16 subnormal inputs/outputs ([1e-7, 1e-4]) whenever f16 is involved, else
    /// f32/bf16 subnormals ([1e-40, 1e-37]). A backend that flushes subnormals to zero (FTZ/DAZ) fails.
    /// </summary>
    [TestCaseSource(typeof(TestBackends), nameof(TestBackends.KernelByDTypePair))]
    public void Subnormals_AreNotFlushed(BackendConfig config, DType inType, DType outType)
    {
        using var backend = config.Create();
        bool f16 = inType == DType.F16 || outType == DType.F16;
        (double lo, double hi) = f16 ? (1e-7, 1e-4) : (1e-40, 1e-37);
        foreach (long n in new long[] { 1, 7, 8, 9, 31, 33, 64, 67, 130 })
            RunCase(backend, config, inType, outType, [n], k: 1 + (int)(n % 3), lo: lo, hi: hi);
    }

    /// <summary>Two host threads call one backend at once (the native pool runs one job at a time; the other caller must still get its result).</summary>
    [TestCaseSource(typeof(TestBackends), nameof(TestBackends.BestCases))]
    public void ConcurrentCallers_GetCorrectResults(BackendConfig config)
    {
        using var backend = config.Create();
        RunCase(backend, config, DType.F32, DType.BF16, [300_007], 2); // warm the reference cache
        RunCase(backend, config, DType.BF16, DType.F32, [300_007], 3);
        var errors = new System.Collections.Concurrent.ConcurrentQueue<Exception>();
        var threads = Enumerable.Range(0, 2).Select(t => new Thread(() =>
        {
            try
            {
                for (int rep = 0; rep < 4; rep++)
                    RunCase(backend, config, t == 0 ? DType.F32 : DType.BF16, t == 0 ? DType.BF16 : DType.F32, [300_007], t == 0 ? 2 : 3);
            }
#pragma warning disable CA1031 // reported below
            catch (Exception e)
#pragma warning restore CA1031
            {
                errors.Enqueue(e);
            }
        })).ToArray();
        foreach (var t in threads) t.Start();
        foreach (var t in threads) t.Join();
        Assert.That(errors, Is.Empty, $"{config}: concurrent callers: {string.Join("; ", errors.Select(e => e.Message))}");
    }

    [TestCaseSource(typeof(TestBackends), nameof(TestBackends.KernelByDType))]
    public void MatchesReference_EveryInputCount(BackendConfig config, DType dtype)
    {
        using var backend = config.Create();
        for (int k = 1; k <= 9; k++)
            foreach (long n in new long[] { 1, 17, 67, 133 })
                RunCase(backend, config, dtype, dtype, [n], k);
    }

    [TestCaseSource(typeof(TestBackends), nameof(TestBackends.KernelByDType))]
    public void SpecialValues_NaNAndInfinityPropagate(BackendConfig config, DType dtype)
    {
        using var backend = config.Create();
        foreach (long n in new long[] { 1, 9, 40, 131 })
        {
            string name = $"affine-special/{dtype}/{n}";
            var rng = RandomTensors.For(name);
            using var x = RandomTensors.Create(rng, dtype, [n]);
            using var y = RandomTensors.Create(rng, dtype, [n]);
            RandomTensors.SetBits(x, rng.NextInt64(n), RandomTensors.NaNBits(dtype));
            long inf = rng.NextInt64(n);
            RandomTensors.SetBits(y, inf, RandomTensors.InfBits(dtype) | (dtype == DType.F32 ? 0x8000_0000u : 0x8000u));
            Tensor[] inputs = [x, y];
            float[] weights = [0.75f, -1.5f];
            using var expected = Tensor.Allocate(dtype, n);
            using (var reference = new ReferenceBackend())
                reference.Affine(inputs, weights, 0.25f, expected);
            using var output = new GuardedTensor(rng, dtype, [n]);
            output.Poison();
            backend.Affine(inputs, weights, 0.25f, output.View);
            string context = $"{config} affine {dtype}->{dtype} shape {n} with NaN/-Inf planted";
            output.AssertGuardsIntact(context);
            Tolerances.AssertClose(context, output.View, RandomTensors.ToDoubles(expected), Magnitude(inputs, weights, 0.25f), 2);
        }
    }

    [TestCaseSource(typeof(TestBackends), nameof(TestBackends.KernelCases))]
    public void F16Output_OverflowsToInfinity(BackendConfig config)
    {
        using var backend = config.Create();
        const long n = 37;
        var rng = RandomTensors.For("affine-f16-overflow");
        using var x = RandomTensors.Create(rng, DType.F32, [n], 40_000, 60_000);
        using var expected = Tensor.Allocate(DType.F16, n);
        using (var reference = new ReferenceBackend())
            reference.Affine([x], [2f], 0f, expected);
        using var output = new GuardedTensor(rng, DType.F16, [n]);
        output.Poison();
        backend.Affine([x], [2f], 0f, output.View);
        string context = $"{config} affine f32->f16 overflow";
        output.AssertGuardsIntact(context);
        Tolerances.AssertClose(context, output.View, RandomTensors.ToDoubles(expected), null, 1);
        Assert.That(RandomTensors.ToDoubles(output.View).All(double.IsInfinity), Is.True, $"{context}: |2x| >= 80000 must be ±Inf in f16");
    }

    [TestCaseSource(typeof(TestBackends), nameof(TestBackends.KernelByDType))]
    public void InPlace_OutputIdenticalToAnInput_EqualsReferenceOnCopies(BackendConfig config, DType dtype)
    {
        using var backend = config.Create();
        foreach (long n in new long[] { 1, 7, 31, 67, 130, 1031, 70_001, 200_003 })
        {
            for (int variant = 0; variant < (n > 100_000 ? 1 : 3); variant++)
            {
                string name = $"affine-inplace/{dtype}/{n}/{variant}";
                var rng = RandomTensors.For(name);
                using var x0 = RandomTensors.Create(rng, dtype, [n]);
                using var x1 = RandomTensors.Create(rng, dtype, [n]);
                using var x2 = RandomTensors.Create(rng, dtype, [n]);
                float[] weights = [(float)RandomTensors.NextSigned(rng, 0.1, 2), (float)RandomTensors.NextSigned(rng, 0.1, 2), (float)RandomTensors.NextSigned(rng, 0.1, 2)];
                float c = (float)RandomTensors.NextSigned(rng);
                // variant 0: out is x1 itself; 1: out is another view of x0's memory; 2: x0 appears twice and is the output.
                Tensor[] inputs = variant == 2 ? [x0, x1, x0] : [x0, x1, x2];
                Tensor outTarget = variant == 0 ? x1 : x0;
                using var c0 = RandomTensors.Clone(x0);
                using var c1 = RandomTensors.Clone(x1);
                using var c2 = RandomTensors.Clone(x2);
                Tensor[] copies = variant == 2 ? [c0, c1, c0] : [c0, c1, c2];
                var (expected, magnitude) = ReferenceCache.Get(name, () =>
                {
                    using var result = Tensor.Allocate(dtype, n);
                    using (var reference = new ReferenceBackend())
                        reference.Affine(copies, weights, c, result);
                    return (RandomTensors.ToDoubles(result), Magnitude(copies, weights, c));
                });
                using var view = Tensor.FromPointer(outTarget.Pointer, dtype, [n]);
                backend.Affine(inputs, weights, c, variant == 1 ? view : outTarget);
                Tolerances.AssertClose($"{config} affine in place ({variant}) {dtype} shape {n}", outTarget, expected, magnitude, 3);
                if (variant != 2)
                {
                    var untouched = variant == 0 ? new[] { (x0, c0), (x2, c2) } : new[] { (x1, c1), (x2, c2) };
                    foreach (var (t, copy) in untouched)
                        Assert.That(RandomTensors.Bytes(t), Is.EqualTo(RandomTensors.Bytes(copy)), $"{config} affine in place modified an input that is not the output");
                }
            }
        }
    }

    [TestCaseSource(typeof(TestBackends), nameof(TestBackends.AllCases))]
    public void InvalidArguments_ThrowAndLeaveEveryByte(BackendConfig config)
    {
        using var backend = config.Create();
        var rng = RandomTensors.For("affine-invalid");
        using var backing = RandomTensors.Create(rng, DType.F32, [200]);
        using var x = Tensor.FromPointer(backing.Pointer, DType.F32, [100]);
        using var shifted = Tensor.FromPointer(backing.Pointer + 4, DType.F32, [100]);      // overlaps x by 99 elements
        using var halfView = Tensor.FromPointer(backing.Pointer, DType.F16, [200]);        // same bytes, other dtype
        using var bf16View = Tensor.FromPointer(backing.Pointer, DType.BF16, [200]);
        using var halfOfX = Tensor.FromPointer(backing.Pointer, DType.F16, [100]);
        using var y = RandomTensors.Create(rng, DType.F32, [100]);
        using var y2x50 = RandomTensors.Create(rng, DType.F32, [2, 50]);
        using var y50x2 = RandomTensors.Create(rng, DType.F32, [50, 2]);
        using var out50x2 = RandomTensors.Create(rng, DType.F32, [50, 2]);
        using var yF16 = RandomTensors.Create(rng, DType.F16, [100]);
        using var outF32 = RandomTensors.Create(rng, DType.F32, [100]);
        using var outF16x200 = RandomTensors.Create(rng, DType.F16, [200]);
        using var i32 = Tensor.Allocate(DType.I32, 100);
        using var f64 = Tensor.Allocate(DType.F64, 100);
        rng.NextBytes(i32.AsBytes());
        var all = new[] { backing, y, y2x50, y50x2, out50x2, yF16, outF32, outF16x200, i32, f64 };

        void Check(string what, Action call, string? messagePart = null) =>
            ValidationAssert.ThrowsAndLeavesBytes<ArgumentException>($"{config} affine: {what}", call, messagePart, all);

        Check("partially overlapping output", () => backend.Affine([x, y], [1f, 1f], 0f, shifted), "overlap");
        Check("output overlapping an input it is not identical to (f16 view of x's first half)", () => backend.Affine([x, y], [1f, 1f], 0f, halfOfX), "overlap");
        Check("f16 inputs with an output that is the same bytes as bf16", () => backend.Affine([halfView, outF16x200], [1f, 1f], 0f, bf16View), "overlap");
        Check("shape mismatch with equal element counts", () => backend.Affine([y2x50], [1f], 0f, out50x2), "shape");
        Check("shape mismatch between inputs", () => backend.Affine([y2x50, y50x2], [1f, 1f], 0f, out50x2), "shape");
        Check("length mismatch", () => backend.Affine([y], [1f], 0f, outF16x200));
        Check("more weights than inputs", () => backend.Affine([y], [1f, 2f], 0f, outF32), "weights");
        Check("fewer weights than inputs", () => backend.Affine([y, x], [1f], 0f, outF32), "weights");
        Check("no inputs", () => backend.Affine([], [], 0f, outF32));
        Check("NaN weight", () => backend.Affine([y, x], [1f, float.NaN], 0f, outF32), "weight 1");
        Check("+Inf weight", () => backend.Affine([y], [float.PositiveInfinity], 0f, outF32), "weight 0");
        Check("-Inf weight", () => backend.Affine([y], [float.NegativeInfinity], 0f, outF32), "weight 0");
        Check("NaN constant", () => backend.Affine([y], [1f], float.NaN, outF32), "constant");
        Check("Inf constant", () => backend.Affine([y], [1f], float.PositiveInfinity, outF32), "constant");
        Check("I32 input", () => backend.Affine([i32], [1f], 0f, outF32), "I32");
        Check("I32 output", () => backend.Affine([y], [1f], 0f, i32), "I32");
        Check("F64 input", () => backend.Affine([f64], [1f], 0f, outF32), "F64");
        Check("mixed input dtypes", () => backend.Affine([y, yF16], [1f, 1f], 0f, outF32), "dtype");
        Assert.Throws<ArgumentNullException>(() => backend.Affine([y], [1f], 0f, null!));
    }

    [TestCaseSource(typeof(TestBackends), nameof(TestBackends.BestCases))]
    public void Property_Linearity(BackendConfig config)
    {
        using var backend = config.Create();
        Gen.Select(Gen.Int[1, 300], Gen.Float[-4f, 4f], Gen.Float[-4f, 4f], Gen.Int[0, int.MaxValue]).Sample((n, a, b, seed) =>
        {
            var rng = new Random(seed);
            using var x = RandomTensors.Create(rng, DType.F32, [n]);
            using var y = RandomTensors.Create(rng, DType.F32, [n]);
            using var both = Tensor.Allocate(DType.F32, n);
            using var ax = Tensor.Allocate(DType.F32, n);
            using var by = Tensor.Allocate(DType.F32, n);
            using var sum = Tensor.Allocate(DType.F32, n);
            backend.Affine([x, y], [a, b], 0f, both);
            backend.Affine([x], [a], 0f, ax);
            backend.Affine([y], [b], 0f, by);
            backend.Affine([ax, by], [1f, 1f], 0f, sum);
            var mag = new double[n];
            for (int j = 0; j < n; j++)
                mag[j] = Math.Abs(a * RandomTensors.Get(x, j)) + Math.Abs(b * RandomTensors.Get(y, j));
            Tolerances.AssertClose($"{config} affine linearity n={n} a={a} b={b}", sum, RandomTensors.ToDoubles(both), mag, 4);
        }, iter: 100, threads: 1);
    }

    [Test]
    public void Reference_HandComputed()
    {
        using var reference = new ReferenceBackend();
        using var x = Tensor.Allocate(DType.F32, 3);
        using var y = Tensor.Allocate(DType.F32, 3);
        new[] { 1f, 2f, -3f }.CopyTo(x.AsSpan<float>());
        new[] { 0.5f, -4f, 8f }.CopyTo(y.AsSpan<float>());
        using var o = Tensor.Allocate(DType.F32, 3);
        reference.Affine([x, y], [2f, -0.5f], 1f, o);
        Assert.That(o.AsSpan<float>().ToArray(), Is.EqualTo(new[] { 1f + 2f - 0.25f, 1f + 4f + 2f, 1f - 6f - 4f }));
        using var h = Tensor.Allocate(DType.F16, 3);
        reference.Affine([x], [1f / 3f], 0f, h);
        Assert.That(h.AsSpan<Half>().ToArray(), Is.EqualTo(new[] { (Half)(1f / 3f), (Half)(2f / 3f), (Half)(-1f) }));
        using var b = Tensor.Allocate(DType.BF16, 3);
        reference.Affine([x], [1f], 0.00390625f, b); // 1 + 2^-8 is a bf16 tie -> 1 (even); 2 + 2^-8 -> 2; -3 + 2^-8 -> -3 (well below half an ulp)
        Assert.That(b.AsSpan<BFloat16>().ToArray().Select(v => v.ToSingle()), Is.EqualTo(new[] { 1f, 2f, -3f }));
        // in place
        reference.Affine([x, x], [1f, 1f], 0f, x);
        Assert.That(x.AsSpan<float>().ToArray(), Is.EqualTo(new[] { 2f, 4f, -6f }));
    }

    /// <summary>The oracle itself on tiny shapes: writes every (poisoned) element, nothing outside the output.</summary>
    [Test]
    public void Reference_TinyShapes_WritesEveryElementAndNothingElse()
    {
        using var reference = TestBackends.Reference.Create();
        foreach (DType i in TestBackends.KernelDTypes)
            foreach (DType o in TestBackends.KernelDTypes)
                for (long n = 0; n <= 20; n++)
                    RunCase(reference, TestBackends.Reference, i, o, [n], 1 + (int)(n % 4));
    }

    [Test]
    public void Reference_EmptyIsNoOp()
    {
        using var reference = new ReferenceBackend();
        using var x = Tensor.Allocate(DType.F32, 0);
        using var o = Tensor.Allocate(DType.F16, 0);
        Assert.DoesNotThrow(() => reference.Affine([x], [1f], 0f, o));
    }

    private sealed record AffineCase(byte[][] Inputs, float[] Weights, float Constant, double[] Expected, double[] Magnitude);

    internal static void RunCase(IKernelBackend backend, BackendConfig config, DType inType, DType outType, long[] shape, int k, int? guardOffset = null, double lo = 0.05, double hi = 1.0)
    {
        string shapeText = RandomTensors.ShapeText(shape);
        string name = $"affine/{inType}/{outType}/{shapeText}/k{k}/{lo:R}-{hi:R}";
        var data = ReferenceCache.GetData(name, () => BuildCase(name, inType, outType, shape, k, lo, hi));
        var rng = RandomTensors.For(name + "/guards");
        var inputs = new Tensor[k];
        try
        {
            for (int i = 0; i < k; i++)
            {
                inputs[i] = Tensor.Allocate(inType, shape);
                data.Inputs[i].CopyTo(inputs[i].AsBytes());
            }
            using var output = new GuardedTensor(rng, outType, shape, fillRandom: false, frontOffset: guardOffset);
            output.Poison();
            backend.Affine(inputs, data.Weights, data.Constant, output.View);
            string aligned = (output.View.Pointer & 63) == 0 ? "64-byte aligned" : $"output at +{output.View.Pointer & 63} bytes from a cache line";
            string context = $"{config} affine {inType.ShortName()}->{outType.ShortName()} shape {shapeText} k={k} |x| in [{lo:G3}, {hi:G3}] ({aligned})";
            output.AssertGuardsIntact(context);
            for (int i = 0; i < k; i++)
                if (!inputs[i].AsBytes().SequenceEqual(data.Inputs[i]))
                    Assert.Fail($"{context}: input {i} was modified");
            Tolerances.AssertClose(context, output.View, data.Expected, data.Magnitude, k, shape.Length > 1 ? shape[^1] : 0);
        }
        finally
        {
            foreach (var t in inputs)
                t?.Dispose();
        }
    }

    private static AffineCase BuildCase(string name, DType inType, DType outType, long[] shape, int k, double lo, double hi)
    {
        var rng = RandomTensors.For(name);
        var inputs = new Tensor[k];
        var weights = new float[k];
        try
        {
            for (int i = 0; i < k; i++)
            {
                inputs[i] = RandomTensors.Create(rng, inType, shape, lo, hi);
                weights[i] = (float)RandomTensors.NextSigned(rng, 0.1, 2.0);
            }
            float constant = (float)RandomTensors.NextSigned(rng, 0.01 * lo, hi);
            using var result = Tensor.Allocate(outType, shape);
            using (var reference = new ReferenceBackend())
                reference.Affine(inputs, weights, constant, result);
            return new AffineCase(inputs.Select(RandomTensors.Bytes).ToArray(), weights, constant,
                RandomTensors.ToDoubles(result), Magnitude(inputs, weights, constant));
        }
        finally
        {
            foreach (var t in inputs)
                t?.Dispose();
        }
    }

    private static double[] Magnitude(Tensor[] inputs, float[] weights, float constant)
    {
        var m = new double[inputs[0].ElementCount];
        for (long j = 0; j < m.Length; j++)
        {
            double s = Math.Abs(constant);
            for (int i = 0; i < inputs.Length; i++)
                s += Math.Abs(weights[i] * RandomTensors.Get(inputs[i], j));
            m[j] = s;
        }
        return m;
    }
}
