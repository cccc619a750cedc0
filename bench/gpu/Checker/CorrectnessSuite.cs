using PeftNative.Backends;
using PeftNative.Backends.Cuda;
using PeftNative.Backends.Reference;
using PeftNative.Tests;

namespace PeftNative.GpuChecker;

/// <summary>
/// Every kernel and dtype of the CUDA backend against the float64 reference on fresh random data
/// (odd shapes with tails; both merge products: tensor cores for all-16-bit factors, f32 FMAs for
/// the rest), judged by the test suite's own <see cref="Tolerances"/>. The per-element magnitude
/// (Σ|term|) comes from the reference run on absolute values.
/// </summary>
internal static class CorrectnessSuite
{
    private static readonly DType[] DTypes = [DType.F32, DType.F16, DType.BF16];

    /// <summary>Runs every check, prints one line per check, returns the number that failed.</summary>
    public static int Run(CudaBackend cuda, int seed, TextWriter log)
    {
        using var reference = new ReferenceBackend();
        var rng = new Random(seed);
        int failed = 0, passed = 0;
        void Check(string name, Action body)
        {
            try
            {
                body();
                passed++;
            }
#pragma warning disable CA1031 // any failure (assertion or exception) is one failed check, reported by name
            catch (Exception e)
#pragma warning restore CA1031
            {
                failed++;
                log.WriteLine($"FAIL {name}: {e.Message.Trim()}");
            }
        }

        foreach (var i in DTypes)
            foreach (var o in DTypes)
                Check($"affine {i.ShortName()}->{o.ShortName()}", () => Affine(cuda, reference, rng, i, o, 1_000_003, 3));
        Check("affine bf16 k=70 (two launches)", () => Affine(cuda, reference, rng, DType.BF16, DType.BF16, 10_007, 70));

        foreach (var w in DTypes)
            foreach (var f in DTypes)
                foreach (bool t in new[] { false, true })
                {
                    Check($"lowrank_merge W {w.ShortName()} factors {f.ShortName()} r64 fifo={t}", () => Merge(cuda, reference, rng, w, t, 515, 777, [(64, f)]));
                    Check($"lowrank_merge W {w.ShortName()} factors {f.ShortName()} r16+r7 fifo={t}", () => Merge(cuda, reference, rng, w, t, 515, 777, [(16, f), (7, f)]));
                }
        foreach (bool t in new[] { false, true })
        {
            Check($"lowrank_merge W bf16 1024x1024 r64 (aligned, vector path) fifo={t}", () => Merge(cuda, reference, rng, DType.BF16, t, 1024, 1024, [(64, DType.BF16)]));
            Check($"lowrank_merge W f16 mixed factors fifo={t}", () => Merge(cuda, reference, rng, DType.F16, t, 300, 260, [(8, DType.F32), (64, DType.BF16), (3, DType.F16)]));
        }

        foreach (var w in DTypes)
            foreach (var l in DTypes)
                foreach (bool rows in new[] { true, false })
                    foreach (bool inverse in new[] { false, true })
                        Check($"scale_{(rows ? "rows" : "cols")} W {w.ShortName()} l {l.ShortName()} inverse={inverse}", () => Scale(cuda, reference, rng, w, l, rows, inverse));

        foreach (var s in DTypes)
            foreach (var d in DTypes)
                Check($"convert {s.ShortName()}->{d.ShortName()}", () => Convert(cuda, reference, rng, s, d));

        log.WriteLine($"correctness: {passed} passed, {failed} failed");
        return failed;
    }

    private static void Affine(CudaBackend cuda, ReferenceBackend reference, Random rng, DType inType, DType outType, long n, int k)
    {
        var inputs = Enumerable.Range(0, k).Select(_ => RandomTensors.Create(rng, inType, [n])).ToArray();
        try
        {
            var weights = Enumerable.Range(0, k).Select(_ => (float)RandomTensors.NextSigned(rng, 0.1, 2.0)).ToArray();
            float constant = (float)RandomTensors.NextSigned(rng, 0.1, 1.0);
            using var expected = Tensor.Allocate(outType, n);
            reference.Affine(inputs, weights, constant, expected);
            using var got = Poisoned(outType, [n]);
            cuda.Affine(inputs, weights, constant, got);
            var absInputs = inputs.Select(AbsF32).ToArray();
            try
            {
                using var magnitude = Tensor.Allocate(DType.F32, n);
                reference.Affine(absInputs, weights.Select(Math.Abs).ToArray(), Math.Abs(constant), magnitude);
                Tolerances.AssertClose($"affine {inType.ShortName()}->{outType.ShortName()} n={n} k={k}", got,
                    RandomTensors.ToDoubles(expected), RandomTensors.ToDoubles(magnitude), k);
            }
            finally
            {
                foreach (var t in absInputs) t.Dispose();
            }
        }
        finally
        {
            foreach (var t in inputs) t.Dispose();
        }
    }

    private static void Merge(CudaBackend cuda, ReferenceBackend reference, Random rng, DType wType, bool fanInFanOut,
        long outF, long inF, (int Rank, DType DType)[] factors)
    {
        long[] shape = fanInFanOut ? [inF, outF] : [outF, inF];
        using var w0 = RandomTensors.Create(rng, wType, shape);
        var updates = factors.Select(f =>
        {
            double spread = 1 / Math.Sqrt(f.Rank);
            return new LowRankUpdate(RandomTensors.Create(rng, f.DType, [outF, f.Rank], 0.05 * spread, spread),
                RandomTensors.Create(rng, f.DType, [f.Rank, inF], 0.05 * spread, spread), (float)RandomTensors.NextSigned(rng, 0.1, 2.0));
        }).ToArray();
        var absUpdates = updates.Select(u => new LowRankUpdate(AbsF32(u.B), AbsF32(u.A), Math.Abs(u.Scale))).ToArray();
        try
        {
            using var expected = RandomTensors.Clone(w0);
            reference.LowRankMerge(expected, updates, fanInFanOut);
            using var magnitude = AbsF32(w0);
            reference.LowRankMerge(magnitude, absUpdates, fanInFanOut);
            using var got = RandomTensors.Clone(w0);
            cuda.LowRankMerge(got, updates, fanInFanOut);
            string spec = string.Join(",", factors.Select(f => $"r{f.Rank}:{f.DType.ShortName()}"));
            Tolerances.AssertClose($"lowrank_merge W {wType.ShortName()} {string.Join('x', shape)} fifo={fanInFanOut} [{spec}]", got,
                RandomTensors.ToDoubles(expected), RandomTensors.ToDoubles(magnitude), factors.Sum(f => f.Rank) + 1, shape[1]);
        }
        finally
        {
            foreach (var u in updates.Concat(absUpdates))
            {
                u.B.Dispose();
                u.A.Dispose();
            }
        }
    }

    private static void Scale(CudaBackend cuda, ReferenceBackend reference, Random rng, DType wType, DType lType, bool rows, bool inverse)
    {
        const long r = 1001, c = 777;
        using var w0 = RandomTensors.Create(rng, wType, [r, c]);
        using var l = RandomTensors.Create(rng, lType, [rows ? r : c], 0.25, 2.0);
        using var expected = RandomTensors.Clone(w0);
        using var got = RandomTensors.Clone(w0);
        if (rows)
        {
            reference.ScaleRows(expected, l, inverse);
            cuda.ScaleRows(got, l, inverse);
        }
        else
        {
            reference.ScaleColumns(expected, l, inverse);
            cuda.ScaleColumns(got, l, inverse);
        }
        Tolerances.AssertClose($"scale W {wType.ShortName()} l {lType.ShortName()} rows={rows} inverse={inverse}", got,
            RandomTensors.ToDoubles(expected), null, 1, c);
    }

    private static void Convert(CudaBackend cuda, ReferenceBackend reference, Random rng, DType from, DType to)
    {
        const long n = 1_000_003;
        using var source = RandomTensors.Create(rng, from, [n], 1e-6, 7e4);
        using var expected = Tensor.Allocate(to, n);
        reference.Convert(source, expected);
        using var got = Poisoned(to, [n]);
        cuda.Convert(source, got);
        byte[] e = RandomTensors.Bytes(expected), g = RandomTensors.Bytes(got);
        int size = to.SizeOf();
        for (long i = 0; i < n; i++)
            if (!e.AsSpan((int)(i * size), size).SequenceEqual(g.AsSpan((int)(i * size), size)))
                throw new InvalidOperationException($"convert {from.ShortName()}->{to.ShortName()}: element {i} of {RandomTensors.Get(source, i):R} is {RandomTensors.Get(got, i):R}, the reference gives {RandomTensors.Get(expected, i):R} (not bit-identical)");
    }

    private static Tensor Poisoned(DType dtype, long[] shape)
    {
        var t = Tensor.Allocate(dtype, shape);
        for (long i = 0; i < t.ElementCount; i++)
            RandomTensors.SetBits(t, i, RandomTensors.NaNBits(dtype));
        return t;
    }

    private static Tensor AbsF32(Tensor t)
    {
        var a = Tensor.Allocate(DType.F32, t.Shape.ToArray());
        for (long i = 0; i < t.ElementCount; i++)
            RandomTensors.Set(a, i, Math.Abs(RandomTensors.Get(t, i)));
        return a;
    }
}
