using CsCheck;
using PeftNative.Backends;
using PeftNative.Backends.Reference;

namespace PeftNative.Tests;

/// <summary>
/// Multi-adapter low-rank merge <c>W += Σ_k s_k · B_k @ A_k</c> (transposed for fan_in_fan_out)
/// on every backend configuration and W dtype, against the float64 reference: odd shapes,
/// ranks 1, 7, 64 and 256, up to 9 factors of mixed dtypes and ranks in one merge; W guarded
/// against over-writes; factors never modified; special values in W kept; argument errors
/// leave every byte as it was.
/// </summary>
[TestFixture]
public class LowRankMergeTests
{
    /// <summary>(out, in, factors as (rank, dtype or null for W's dtype)).</summary>
    private static readonly (long Out, long In, (int Rank, DType? DType)[] Factors)[] Cases =
    [
        (1, 1, [(1, null)]),
        (1, 37, [(7, DType.F32), (1, DType.BF16)]),
        (37, 1, [(1, DType.F16)]),
        (7, 129, [(64, DType.F16), (1, DType.F32)]),
        (67, 45, [(7, DType.F16), (64, DType.BF16), (1, DType.F32)]),
        (130, 257, [(7, null), (64, DType.F32)]),
        (257, 130, [(1, DType.BF16), (7, DType.F16)]),
        (33, 29, [(256, null)]),
        (19, 23, [(1, DType.F32), (7, DType.F16), (2, DType.BF16), (5, null), (3, DType.F32), (64, DType.F16), (1, DType.BF16), (9, DType.F32), (4, null)]),
        (64, 64, [(16, null)]),
        (260, 96, [(8, DType.BF16)]),
        (449, 441, [(1, DType.F16), (32, null)]), // ~198k elements, ~6.5M FMAs: enough work for 3 threads on every backend
    ];

    [TestCaseSource(typeof(TestBackends), nameof(TestBackends.KernelByDTypeAndTranspose))]
    public void MatchesReference(BackendConfig config, DType wType, bool fanInFanOut)
    {
        using var backend = config.Create();
        foreach (var (o, i, factors) in Cases)
            RunCase(backend, config, wType, fanInFanOut, o, i, factors.Select(f => (f.Rank, f.DType ?? wType)).ToArray());
    }

    [TestCaseSource(typeof(TestBackends), nameof(TestBackends.KernelByDType))]
    public void EveryFactorCount_OneToNine(BackendConfig config, DType wType)
    {
        using var backend = config.Create();
        int[] ranks = [1, 7, 3, 64, 2, 5, 1, 8, 4];
        for (int count = 1; count <= 9; count++)
        {
            var factors = Enumerable.Range(0, count).Select(k => (ranks[k], TestBackends.KernelDTypes[(k + (int)wType) % 3])).ToArray();
            RunCase(backend, config, wType, count % 2 == 0, 13, 41, factors);
        }
    }

    [TestCaseSource(typeof(TestBackends), nameof(TestBackends.KernelByDType))]
    public void SpecialValuesInW_StayPut(BackendConfig config, DType wType)
    {
        using var backend = config.Create();
        foreach (bool t in new[] { false, true })
        {
            string name = $"merge-special/{wType}/{t}";
            var rng = RandomTensors.For(name);
            const long outF = 23, inF = 45;
            using var w = new GuardedTensor(rng, wType, t ? [inF, outF] : [outF, inF]);
            using var b = RandomTensors.Create(rng, DType.F32, [outF, 7]);
            using var a = RandomTensors.Create(rng, DType.F32, [7, inF]);
            var positions = new HashSet<long>();
            while (positions.Count < 6)
                positions.Add(rng.NextInt64(outF * inF));
            var list = positions.ToArray();
            for (int p = 0; p < list.Length; p++)
            {
                uint bits = p % 3 == 0 ? RandomTensors.NaNBits(wType) : RandomTensors.InfBits(wType);
                if (p % 2 == 1)
                    bits |= wType == DType.F32 ? 0x8000_0000u : 0x8000u;
                RandomTensors.SetBits(w.View, list[p], bits);
            }
            using var expected = RandomTensors.Clone(w.View);
            var magnitude = Magnitude(expected, [new LowRankUpdate(b, a, 0.5f)], t);
            using (var reference = new ReferenceBackend())
                reference.LowRankMerge(expected, [new LowRankUpdate(b, a, 0.5f)], t);
            backend.LowRankMerge(w.View, [new LowRankUpdate(b, a, 0.5f)], t);
            string context = $"{config} lowrank_merge W {wType.ShortName()} fan_in_fan_out={t} with NaN/±Inf planted";
            w.AssertGuardsIntact(context);
            foreach (long p in list)
            {
                double got = RandomTensors.Get(w.View, p), want = RandomTensors.Get(expected, p);
                Assert.That(double.IsNaN(want) ? double.IsNaN(got) : got == want, Is.True, $"{context}: index {p} expected {want} actual {got}");
            }
            Tolerances.AssertClose(context, w.View, RandomTensors.ToDoubles(expected), magnitude, 8, t ? outF : inF);
        }
    }

    [TestCaseSource(typeof(TestBackends), nameof(TestBackends.AllCases))]
    public void ZeroFactors_IsNoOp(BackendConfig config)
    {
        using var backend = config.Create();
        var rng = RandomTensors.For("merge-noop");
        using var w = RandomTensors.Create(rng, DType.BF16, [5, 9]);
        var before = RandomTensors.Bytes(w);
        backend.LowRankMerge(w, [], false);
        backend.LowRankMerge(w, ReadOnlySpan<LowRankUpdate>.Empty, true);
        Assert.That(RandomTensors.Bytes(w), Is.EqualTo(before));
    }

    [TestCaseSource(typeof(TestBackends), nameof(TestBackends.AllCases))]
    public void InvalidArguments_ThrowAndLeaveEveryByte(BackendConfig config)
    {
        using var backend = config.Create();
        var rng = RandomTensors.For("merge-invalid");
        using var w = RandomTensors.Create(rng, DType.F32, [6, 10]);
        using var wSquare = RandomTensors.Create(rng, DType.F32, [6, 6]);
        using var b = RandomTensors.Create(rng, DType.F32, [6, 3]);
        using var a = RandomTensors.Create(rng, DType.F32, [3, 10]);
        using var a4 = RandomTensors.Create(rng, DType.F32, [4, 10]);
        using var a16 = RandomTensors.Create(rng, DType.F16, [3, 10]);
        using var bWrongRows = RandomTensors.Create(rng, DType.F32, [5, 3]);
        using var aWrongCols = RandomTensors.Create(rng, DType.F32, [3, 9]);
        using var b0 = Tensor.Allocate(DType.F32, 6, 0);
        using var a0 = Tensor.Allocate(DType.F32, 0, 10);
        using var bI32 = Tensor.Allocate(DType.I32, 6, 3);
        using var aI32 = Tensor.Allocate(DType.I32, 3, 10);
        using var wI32 = Tensor.Allocate(DType.I32, 6, 10);
        using var w1d = RandomTensors.Create(rng, DType.F32, [60]);
        using var w3d = RandomTensors.Create(rng, DType.F32, [1, 6, 10]);
        using var aInsideW = Tensor.FromPointer(w.Pointer + 8, DType.F32, [3, 10]);
        using var bInsideW = Tensor.FromPointer(w.Pointer + 4 * 40, DType.F16, [6, 3]);
        using var aInsideWb = Tensor.FromPointer(w.Pointer + 4 * 40, DType.F16, [3, 10]);
        rng.NextBytes(bI32.AsBytes());
        rng.NextBytes(aI32.AsBytes());
        rng.NextBytes(wI32.AsBytes());
        var all = new[] { w, wSquare, b, a, a4, a16, bWrongRows, aWrongCols, bI32, aI32, wI32, w1d, w3d };

        void Check(string what, Action call, string? messagePart = null) =>
            ValidationAssert.ThrowsAndLeavesBytes<ArgumentException>($"{config} lowrank_merge: {what}", call, messagePart, all);

        var good = new LowRankUpdate(b, a, 0.5f);
        Check("B rows != out_features", () => backend.LowRankMerge(w, [good, new LowRankUpdate(bWrongRows, a, 1f)], false), "update 1");
        Check("A cols != in_features", () => backend.LowRankMerge(w, [new LowRankUpdate(b, aWrongCols, 1f)], false), "update 0");
        Check("rank mismatch between A and B", () => backend.LowRankMerge(w, [new LowRankUpdate(b, a4, 1f)], false), "rank");
        Check("rank 0", () => backend.LowRankMerge(w, [new LowRankUpdate(b0, a0, 1f)], false));
        Check("fan_in_fan_out with factors that fit only the plain layout", () => backend.LowRankMerge(w, [good], true), "fan_in_fan_out");
        Check("plain layout with a non-square W and transposed factors", () => backend.LowRankMerge(wSquare, [good], false));
        Check("NaN scale", () => backend.LowRankMerge(w, [good, new LowRankUpdate(b, a, float.NaN)], false), "scale");
        Check("+Inf scale", () => backend.LowRankMerge(w, [new LowRankUpdate(b, a, float.PositiveInfinity)], false), "scale");
        Check("-Inf scale", () => backend.LowRankMerge(w, [new LowRankUpdate(b, a, float.NegativeInfinity)], false), "scale");
        Check("I32 factors", () => backend.LowRankMerge(w, [new LowRankUpdate(bI32, aI32, 1f)], false), "I32");
        Check("I32 W", () => backend.LowRankMerge(wI32, [good], false), "I32");
        Check("A and B of different dtypes", () => backend.LowRankMerge(w, [new LowRankUpdate(b, a16, 1f)], false), "dtype");
        Check("1-D W", () => backend.LowRankMerge(w1d, [good], false), "matrix");
        Check("3-D W", () => backend.LowRankMerge(w3d, [good], false), "matrix");
        Check("A inside W's memory", () => backend.LowRankMerge(w, [new LowRankUpdate(b, aInsideW, 1f)], false), "overlap");
        Check("B inside W's memory (other dtype)", () => backend.LowRankMerge(w, [good, new LowRankUpdate(bInsideW, aInsideWb, 1f)], false), "overlap");
        Assert.Throws<ArgumentNullException>(() => backend.LowRankMerge(w, [new LowRankUpdate(b, null!, 1f)], false));
        Assert.Throws<ArgumentNullException>(() => backend.LowRankMerge(null!, [good], false));
    }

    [TestCaseSource(typeof(TestBackends), nameof(TestBackends.BestCases))]
    public void Property_MergeThenNegatedMergeRestoresW(BackendConfig config)
    {
        using var backend = config.Create();
        Gen.Select(Gen.Int[1, 40], Gen.Int[1, 40], Gen.Int[1, 16], Gen.Float[0.1f, 4f], Gen.Bool, Gen.Int[0, int.MaxValue]).Sample((o, i, r, s, t, seed) =>
        {
            var rng = new Random(seed);
            using var w = RandomTensors.Create(rng, DType.F32, t ? [i, o] : [o, i]);
            using var original = RandomTensors.Clone(w);
            using var b = RandomTensors.Create(rng, DType.F32, [o, r]);
            using var a = RandomTensors.Create(rng, DType.F32, [r, i]);
            backend.LowRankMerge(w, [new LowRankUpdate(b, a, s)], t);
            backend.LowRankMerge(w, [new LowRankUpdate(b, a, -s)], t);
            var mag = new double[o * i];
            for (int row = 0; row < o; row++)
                for (int col = 0; col < i; col++)
                {
                    double d = 0;
                    for (int q = 0; q < r; q++)
                        d += Math.Abs(RandomTensors.Get(b, row * r + q) * RandomTensors.Get(a, q * i + col));
                    long index = t ? col * o + row : row * i + col;
                    mag[index] = Math.Abs(RandomTensors.Get(original, index)) + 2 * s * d;
                }
            Tolerances.AssertClose($"{config} lowrank_merge B then -B, W {o}x{i} rank {r} s={s} fan_in_fan_out={t}", w, RandomTensors.ToDoubles(original), mag, 2 * r + 1);
        }, iter: 60, threads: 1);
    }

    /// <summary>The oracle itself on tiny shapes: stays inside W (guards), leaves the factors alone.</summary>
    [Test]
    public void Reference_TinyShapes_StaysInsideW()
    {
        using var reference = TestBackends.Reference.Create();
        foreach (DType w in TestBackends.KernelDTypes)
            foreach (bool t in new[] { false, true })
            {
                RunCase(reference, TestBackends.Reference, w, t, 1, 1, [(1, w)]);
                RunCase(reference, TestBackends.Reference, w, t, 3, 5, [(2, DType.F32), (1, DType.BF16)]);
            }
    }

    [Test]
    public void Reference_HandComputed()
    {
        using var reference = new ReferenceBackend();
        // W (2x3) = [[1,2,3],[4,5,6]], B (2x1) = [[1],[2]], A (1x3) = [[1,0,-1]], s = 0.5
        using var w = Tensor.Allocate(DType.F32, 2, 3);
        using var b = Tensor.Allocate(DType.F32, 2, 1);
        using var a = Tensor.Allocate(DType.F32, 1, 3);
        new[] { 1f, 2f, 3f, 4f, 5f, 6f }.CopyTo(w.AsSpan<float>());
        new[] { 1f, 2f }.CopyTo(b.AsSpan<float>());
        new[] { 1f, 0f, -1f }.CopyTo(a.AsSpan<float>());
        reference.LowRankMerge(w, [new LowRankUpdate(b, a, 0.5f)], false);
        Assert.That(w.AsSpan<float>().ToArray(), Is.EqualTo(new[] { 1.5f, 2f, 2.5f, 5f, 5f, 5f }));
        // fan_in_fan_out: W stored in x out (3x2) = [[1,4],[2,5],[3,6]] gets the transpose.
        using var wt = Tensor.Allocate(DType.F32, 3, 2);
        new[] { 1f, 4f, 2f, 5f, 3f, 6f }.CopyTo(wt.AsSpan<float>());
        reference.LowRankMerge(wt, [new LowRankUpdate(b, a, 0.5f)], true);
        Assert.That(wt.AsSpan<float>().ToArray(), Is.EqualTo(new[] { 1.5f, 5f, 2f, 5f, 2.5f, 5f }));
        // two factors, rank 2: B = [[1,1],[0,1]], A = [[1,1,1],[0,2,0]], s = -1 => dW = -[[1,3,1],[0,2,0]]
        using var b2 = Tensor.Allocate(DType.BF16, 2, 2);
        using var a2 = Tensor.Allocate(DType.BF16, 2, 3);
        float[] bv = [1, 1, 0, 1], av = [1, 1, 1, 0, 2, 0];
        for (int k = 0; k < 4; k++) b2.AsSpan<BFloat16>()[k] = BFloat16.FromSingle(bv[k]);
        for (int k = 0; k < 6; k++) a2.AsSpan<BFloat16>()[k] = BFloat16.FromSingle(av[k]);
        using var w16 = Tensor.Allocate(DType.F16, 2, 3);
        for (int k = 0; k < 6; k++) w16.AsSpan<Half>()[k] = (Half)(k + 1);
        reference.LowRankMerge(w16, [new LowRankUpdate(b, a, 0.5f), new LowRankUpdate(b2, a2, -1f)], false);
        Assert.That(w16.AsSpan<Half>().ToArray().Select(h => (float)h), Is.EqualTo(new[] { 0.5f, -1f, 1.5f, 5f, 3f, 5f }));
    }

    internal static void RunCase(IKernelBackend backend, BackendConfig config, DType wType, bool fanInFanOut, long outF, long inF, (int Rank, DType DType)[] factors)
    {
        string spec = string.Join(",", factors.Select(f => $"r{f.Rank}:{f.DType.ShortName()}"));
        string name = $"merge/{wType}/{(fanInFanOut ? "fifo" : "plain")}/{outF}x{inF}/{spec}";
        long[] wShape = fanInFanOut ? [inF, outF] : [outF, inF];
        var rng = RandomTensors.For(name);
        using var w0 = RandomTensors.Create(rng, wType, wShape);
        var updates = new LowRankUpdate[factors.Length];
        try
        {
            for (int k = 0; k < factors.Length; k++)
            {
                var (rank, dt) = factors[k];
                double spread = 1 / Math.Sqrt(rank);
                var b = RandomTensors.Create(rng, dt, [outF, rank], 0.05 * spread, spread);
                var a = RandomTensors.Create(rng, dt, [rank, inF], 0.05 * spread, spread);
                updates[k] = new LowRankUpdate(b, a, (float)RandomTensors.NextSigned(rng, 0.1, 2.0));
            }
            var (expected, magnitude) = ReferenceCache.Get(name, () =>
            {
                using var copy = RandomTensors.Clone(w0);
                using (var reference = new ReferenceBackend())
                    reference.LowRankMerge(copy, updates, fanInFanOut);
                return (RandomTensors.ToDoubles(copy), Magnitude(w0, updates, fanInFanOut));
            });
            var factorBytes = updates.SelectMany(u => new[] { RandomTensors.Bytes(u.B), RandomTensors.Bytes(u.A) }).ToArray();
            using var w = new GuardedTensor(rng, wType, wShape, fillRandom: false);
            w0.AsBytes().CopyTo(w.View.AsBytes());
            backend.LowRankMerge(w.View, updates, fanInFanOut);
            string context = $"{config} lowrank_merge W {wType.ShortName()} {RandomTensors.ShapeText(wShape)} fan_in_fan_out={fanInFanOut} factors [{spec}]";
            w.AssertGuardsIntact(context);
            var after = updates.SelectMany(u => new[] { RandomTensors.Bytes(u.B), RandomTensors.Bytes(u.A) }).ToArray();
            for (int k = 0; k < after.Length; k++)
                Assert.That(after[k], Is.EqualTo(factorBytes[k]), $"{context}: the merge modified {(k % 2 == 0 ? "B" : "A")} of update {k / 2}");
            int totalRank = factors.Sum(f => f.Rank);
            Tolerances.AssertClose(context, w.View, expected, magnitude, totalRank + 1, wShape[1]);
        }
        finally
        {
            foreach (var u in updates)
            {
                u.B?.Dispose();
                u.A?.Dispose();
            }
        }
    }

    /// <summary>|W| + Σ_k |s_k| Σ_r |B_k[o,r]·A_k[r,i]| per element of W's storage.</summary>
    private static double[] Magnitude(Tensor w, LowRankUpdate[] updates, bool fanInFanOut)
    {
        long outF = fanInFanOut ? w.Shape[1] : w.Shape[0];
        long inF = fanInFanOut ? w.Shape[0] : w.Shape[1];
        var m = new double[w.ElementCount];
        var bs = updates.Select(u => RandomTensors.ToDoubles(u.B)).ToArray();
        var as_ = updates.Select(u => RandomTensors.ToDoubles(u.A)).ToArray();
        for (long o = 0; o < outF; o++)
            for (long i = 0; i < inF; i++)
            {
                long index = fanInFanOut ? i * outF + o : o * inF + i;
                double s = Math.Abs(RandomTensors.Get(w, index));
                for (int k = 0; k < updates.Length; k++)
                {
                    long r = updates[k].Rank;
                    double d = 0;
                    for (long q = 0; q < r; q++)
                        d += Math.Abs(bs[k][o * r + q] * as_[k][q * inF + i]);
                    s += Math.Abs(updates[k].Scale) * d;
                }
                m[index] = s;
            }
        return m;
    }
}
