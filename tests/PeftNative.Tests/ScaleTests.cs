using PeftNative.Backends;
using PeftNative.Backends.Reference;

namespace PeftNative.Tests;

/// <summary>
/// (IA)^3 row and column scaling in place, forward and inverse, on every backend configuration
/// × W dtype × l dtype, against the float64 reference (which divides; backends multiply by 1/l
/// rounded to f32, within the f32 tolerance); W guarded; l never modified; NaN in W kept; a zero
/// in l for an inverse is rejected naming its index with every byte left as it was.
/// </summary>
[TestFixture]
public class ScaleTests
{
    private static readonly long[][] Shapes =
        [[1, 1], [37], [1, 37], [150, 1], [7, 129], [67, 45], [130, 257], [257, 130], [3, 1031]];

    [TestCaseSource(typeof(TestBackends), nameof(TestBackends.KernelByDTypePair))]
    public void MatchesReference(BackendConfig config, DType wType, DType lType)
    {
        using var backend = config.Create();
        foreach (var shape in Shapes)
            foreach (bool rows in new[] { true, false })
                foreach (bool inverse in new[] { false, true })
                    RunCase(backend, config, wType, lType, shape, rows, inverse);
    }

    /// <summary>W of ~197k elements: enough for 3 threads.</summary>
    [TestCaseSource(typeof(TestBackends), nameof(TestBackends.KernelByDType))]
    public void LargeEnoughForThreeThreads(BackendConfig config, DType wType)
    {
        using var backend = config.Create();
        foreach (bool rows in new[] { true, false })
            foreach (bool inverse in new[] { false, true })
                RunCase(backend, config, wType, rows ? DType.BF16 : DType.F16, [389, 507], rows, inverse);
    }

    [TestCaseSource(typeof(TestBackends), nameof(TestBackends.KernelByDType))]
    public void EveryVectorTail(BackendConfig config, DType wType)
    {
        using var backend = config.Create();
        for (long cols = 1; cols <= 70; cols++)
        {
            RunCase(backend, config, wType, DType.F32, [3, cols], rows: cols % 2 == 0, inverse: cols % 3 == 0);
            RunCase(backend, config, wType, wType, [cols], rows: false, inverse: cols % 2 == 1);
        }
    }

    /// <summary>Validation lives in <see cref="KernelBackend"/> (shared by every backend), so the reference is enough here.</summary>
    [Test]
    public void EmptyW_IsNoOp()
    {
        var config = TestBackends.Reference;
        using var backend = config.Create();
        var rng = RandomTensors.For("scale-empty");
        using var l3 = RandomTensors.Create(rng, DType.F32, [3]);
        using var l0 = Tensor.Allocate(DType.F32, 0);
        using var w3x0 = Tensor.Allocate(DType.F32, 3, 0);
        using var w0x3 = Tensor.Allocate(DType.F32, 0, 3);
        using var w0 = Tensor.Allocate(DType.F16, 0);
        // A 3x0 matrix has 3 rows and 0 columns; a 0x3 matrix 0 rows and 3 columns; a 0-vector is one row of 0.
        Assert.DoesNotThrow(() => backend.ScaleRows(w3x0, l3, true), $"{config} scale_rows on 3x0 with 3 values");
        Assert.DoesNotThrow(() => backend.ScaleColumns(w3x0, l0, false), $"{config} scale_cols on 3x0 with 0 values");
        Assert.DoesNotThrow(() => backend.ScaleRows(w0x3, l0, false), $"{config} scale_rows on 0x3 with 0 values");
        Assert.DoesNotThrow(() => backend.ScaleColumns(w0x3, l3, true), $"{config} scale_cols on 0x3 with 3 values");
        Assert.DoesNotThrow(() => backend.ScaleColumns(w0, l0, false), $"{config} scale_cols on an empty vector");
    }

    [TestCaseSource(typeof(TestBackends), nameof(TestBackends.KernelByDType))]
    public void NaNInW_StaysNaN(BackendConfig config, DType wType)
    {
        using var backend = config.Create();
        foreach (bool rows in new[] { true, false })
        {
            var rng = RandomTensors.For($"scale-nan/{wType}/{rows}");
            using var w = new GuardedTensor(rng, wType, [9, 33]);
            using var l = RandomTensors.Create(rng, DType.F32, [rows ? 9 : 33], 0.25, 4);
            var nan = new[] { 0L, 5L, 100L, 296L };
            foreach (long p in nan)
                RandomTensors.SetBits(w.View, p, RandomTensors.NaNBits(wType));
            using var expected = RandomTensors.Clone(w.View);
            using (var reference = new ReferenceBackend())
                Apply(reference, expected, l, rows, inverse: false);
            Apply(backend, w.View, l, rows, inverse: false);
            string context = $"{config} {(rows ? "scale_rows" : "scale_cols")} W {wType.ShortName()} 9x33 with NaN planted";
            w.AssertGuardsIntact(context);
            foreach (long p in nan)
                Assert.That(double.IsNaN(RandomTensors.Get(w.View, p)), Is.True, $"{context}: index {p} must stay NaN");
            Tolerances.AssertClose(context, w.View, RandomTensors.ToDoubles(expected), null, 1, 33);
        }
    }

    [TestCaseSource(typeof(TestBackends), nameof(TestBackends.AllCases))]
    public void InverseWithZeroInL_NamesTheIndex_AndLeavesEveryByte(BackendConfig config)
    {
        using var backend = config.Create();
        foreach (DType lType in TestBackends.KernelDTypes)
        {
            foreach (bool rows in new[] { true, false })
            {
                var rng = RandomTensors.For($"scale-zero/{lType}/{rows}");
                using var w = RandomTensors.Create(rng, DType.F32, [17, 41]);
                long n = rows ? 17 : 41;
                foreach (long zeroAt in new[] { 0L, n / 2, n - 1 })
                {
                    foreach (bool negativeZero in new[] { false, true })
                    {
                        using var l = RandomTensors.Create(rng, lType, [n], 0.25, 4);
                        RandomTensors.SetBits(l, zeroAt, negativeZero ? (lType == DType.F32 ? 0x8000_0000u : 0x8000u) : 0u);
                        string op = rows ? "scale_rows" : "scale_cols";
                        ValidationAssert.ThrowsAndLeavesBytes<ArgumentException>(
                            $"{config} {op} inverse, l {lType.ShortName()} with {(negativeZero ? "-0" : "+0")} at {zeroAt}",
                            () => Apply(backend, w, l, rows, inverse: true), $"l[{zeroAt}]", w, l);
                        // forward scaling by a zero is fine
                        Assert.DoesNotThrow(() => Apply(backend, w, l, rows, inverse: false));
                    }
                }
            }
        }
    }

    [TestCaseSource(typeof(TestBackends), nameof(TestBackends.AllCases))]
    public void InvalidArguments_ThrowAndLeaveEveryByte(BackendConfig config)
    {
        using var backend = config.Create();
        var rng = RandomTensors.For("scale-invalid");
        using var w = RandomTensors.Create(rng, DType.F32, [6, 10]);
        using var l6 = RandomTensors.Create(rng, DType.F32, [6], 0.5, 2);
        using var l10 = RandomTensors.Create(rng, DType.F16, [10], 0.5, 2);
        using var l7 = RandomTensors.Create(rng, DType.F32, [7], 0.5, 2);
        using var l2d = RandomTensors.Create(rng, DType.F32, [1, 6], 0.5, 2);
        using var w3d = RandomTensors.Create(rng, DType.F32, [1, 6, 10]);
        using var wI32 = Tensor.Allocate(DType.I32, 6, 10);
        using var lI32 = Tensor.Allocate(DType.I32, 6);
        using var lInsideW = Tensor.FromPointer(w.Pointer + 12, DType.F32, [6]);
        using var w1d = RandomTensors.Create(rng, DType.BF16, [10]);
        rng.NextBytes(wI32.AsBytes());
        rng.NextBytes(lI32.AsBytes());
        var all = new[] { w, l6, l10, l7, l2d, w3d, wI32, lI32, w1d };

        void Check(string what, Action call, string? messagePart = null) =>
            ValidationAssert.ThrowsAndLeavesBytes<ArgumentException>($"{config} scale: {what}", call, messagePart, all);

        Check("rows: l has cols values", () => backend.ScaleRows(w, l10, false), "rows");
        Check("cols: l has rows values", () => backend.ScaleColumns(w, l6, false), "columns");
        Check("rows: l too long", () => backend.ScaleRows(w, l7, true));
        Check("l is a matrix", () => backend.ScaleRows(w, l2d, false), "vector");
        Check("W is 3-D", () => backend.ScaleRows(w3d, l6, false));
        Check("W is I32", () => backend.ScaleRows(wI32, l6, false), "I32");
        Check("l is I32", () => backend.ScaleRows(w, lI32, false), "I32");
        Check("l inside W", () => backend.ScaleRows(w, lInsideW, false), "overlap");
        Check("1-D W is one row: rows needs one l value", () => backend.ScaleRows(w1d, l10, false));
        Assert.Throws<ArgumentNullException>(() => backend.ScaleRows(w, null!, false));
        Assert.Throws<ArgumentNullException>(() => backend.ScaleColumns(null!, l6, false));
    }

    [TestCaseSource(typeof(TestBackends), nameof(TestBackends.KernelCases))]
    public void ScaleThenInverse_RestoresW(BackendConfig config)
    {
        using var backend = config.Create();
        var rng = RandomTensors.For("scale-roundtrip");
        using var w = RandomTensors.Create(rng, DType.F32, [31, 67]);
        using var original = RandomTensors.Clone(w);
        using var lr = RandomTensors.Create(rng, DType.F32, [31], 0.25, 4);
        using var lc = RandomTensors.Create(rng, DType.BF16, [67], 0.25, 4);
        backend.ScaleRows(w, lr, false);
        backend.ScaleColumns(w, lc, false);
        backend.ScaleColumns(w, lc, true);
        backend.ScaleRows(w, lr, true);
        Tolerances.AssertClose($"{config} scale then unscale", w, RandomTensors.ToDoubles(original), null, 4, 67);
    }

    [Test]
    public void Reference_HandComputed()
    {
        using var reference = new ReferenceBackend();
        using var w = Tensor.Allocate(DType.F32, 2, 3);
        new[] { 1f, 2f, 3f, 4f, 5f, 6f }.CopyTo(w.AsSpan<float>());
        using var lr = Tensor.Allocate(DType.F32, 2);
        new[] { 2f, -0.5f }.CopyTo(lr.AsSpan<float>());
        reference.ScaleRows(w, lr, false);
        Assert.That(w.AsSpan<float>().ToArray(), Is.EqualTo(new[] { 2f, 4f, 6f, -2f, -2.5f, -3f }));
        using var lc = Tensor.Allocate(DType.F16, 3);
        new[] { (Half)4, (Half)1, (Half)(-2) }.CopyTo(lc.AsSpan<Half>());
        reference.ScaleColumns(w, lc, true);
        Assert.That(w.AsSpan<float>().ToArray(), Is.EqualTo(new[] { 0.5f, 4f, -3f, -0.5f, -2.5f, 1.5f }));
        using var v = Tensor.Allocate(DType.BF16, 4); // a vector is one row
        for (int i = 0; i < 4; i++) v.AsSpan<BFloat16>()[i] = BFloat16.FromSingle(i + 1);
        using var one = Tensor.Allocate(DType.F32, 1);
        one.AsSpan<float>()[0] = 3f;
        reference.ScaleRows(v, one, false);
        Assert.That(v.AsSpan<BFloat16>().ToArray().Select(b => b.ToSingle()), Is.EqualTo(new[] { 3f, 6f, 9f, 12f }));
        // inverse is a true division in the reference: 1/3 rounded once
        using var third = Tensor.Allocate(DType.F32, 1);
        third.AsSpan<float>()[0] = 1f;
        using var l3 = Tensor.Allocate(DType.F32, 1);
        l3.AsSpan<float>()[0] = 3f;
        reference.ScaleRows(third, l3, true);
        Assert.That(third.AsSpan<float>()[0], Is.EqualTo(1f / 3f));
    }

    private static void Apply(IKernelBackend backend, Tensor w, Tensor l, bool rows, bool inverse)
    {
        if (rows)
            backend.ScaleRows(w, l, inverse);
        else
            backend.ScaleColumns(w, l, inverse);
    }

    private static void RunCase(IKernelBackend backend, BackendConfig config, DType wType, DType lType, long[] shape, bool rows, bool inverse)
    {
        string shapeText = RandomTensors.ShapeText(shape);
        string op = rows ? "scale_rows" : "scale_cols";
        string name = $"{op}/{wType}/{lType}/{shapeText}/{inverse}";
        var rng = RandomTensors.For(name);
        long wRows = shape.Length == 1 ? 1 : shape[0];
        long wCols = shape[^1];
        using var w0 = RandomTensors.Create(rng, wType, shape);
        using var l = RandomTensors.Create(rng, lType, [rows ? wRows : wCols], 0.25, 4);
        var (expected, _) = ReferenceCache.Get(name, () =>
        {
            using var copy = RandomTensors.Clone(w0);
            using (var reference = new ReferenceBackend())
                Apply(reference, copy, l, rows, inverse);
            return (RandomTensors.ToDoubles(copy), null);
        });
        var lBefore = RandomTensors.Bytes(l);
        using var w = new GuardedTensor(rng, wType, shape, fillRandom: false);
        w0.AsBytes().CopyTo(w.View.AsBytes());
        Apply(backend, w.View, l, rows, inverse);
        string context = $"{config} {op}{(inverse ? " inverse" : "")} W {wType.ShortName()} {shapeText} l {lType.ShortName()}";
        w.AssertGuardsIntact(context);
        Assert.That(RandomTensors.Bytes(l), Is.EqualTo(lBefore), $"{context}: l was modified");
        Tolerances.AssertClose(context, w.View, expected, null, 1, wCols);
    }
}
