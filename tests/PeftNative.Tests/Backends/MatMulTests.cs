using PeftNative.Backends;

namespace PeftNative.Tests.Backends;

/// <summary>
/// <see cref="IMatMul"/> (native-cpu at every ISA, managed at every width) against a float64
/// reference on fresh random data: m = 1 and 2 (the GEMV decode path) and odd m / n / k around
/// the register blocks and the k block, W f32 / f16 / bf16 stored (n × k) and (k × n),
/// accumulate on and off (y poisoned with NaN when it must not be read), y guarded against
/// over-writes, x and W never modified, NaN / Inf in W propagated, results independent of the
/// thread count.
/// </summary>
[TestFixture]
public class MatMulTests
{
    /// <summary>(m, n, k): decode rows, tails of the 6-row and 16/32-column blocks, k around the 256 block.</summary>
    private static readonly (int M, int N, int K)[] Shapes =
    [
        (1, 1, 1),
        (1, 37, 29),
        (1, 130, 257),
        (2, 67, 45),
        (2, 203, 8),
        (3, 17, 9),
        (5, 16, 16),
        (6, 33, 300),
        (7, 48, 1),
        (13, 95, 130),
        (37, 203, 611),
        (12, 96, 321),
        (64, 64, 64),
        (130, 31, 257),
    ];

    [TestCaseSource(typeof(MatMulConfigs), nameof(MatMulConfigs.ByDTypeAndLayout))]
    public void MatchesReference(MatMulConfig config, DType wType, bool inputMajor)
    {
        using var product = config.Create();
        for (int s = 0; s < Shapes.Length; s++)
        {
            var (m, n, k) = Shapes[s];
            bool accumulate = (s + (int)wType + (inputMajor ? 1 : 0)) % 2 == 0;
            RunCase(product, config, wType, inputMajor, m, n, k, accumulate, specials: false);
        }
    }

    [TestCaseSource(typeof(MatMulConfigs), nameof(MatMulConfigs.Cases))]
    public void AccumulateOnAndOff_SameShape(MatMulConfig config)
    {
        using var product = config.Create();
        foreach (bool accumulate in new[] { false, true })
        {
            RunCase(product, config, DType.BF16, false, 19, 45, 70, accumulate, specials: false);
            RunCase(product, config, DType.F16, true, 1, 45, 70, accumulate, specials: false);
        }
    }

    [TestCaseSource(typeof(MatMulConfigs), nameof(MatMulConfigs.ByDTypeAndLayout))]
    public void NaNAndInfInWeight_Propagate(MatMulConfig config, DType wType, bool inputMajor)
    {
        using var product = config.Create();
        RunCase(product, config, wType, inputMajor, 9, 41, 37, accumulate: false, specials: true);
        RunCase(product, config, wType, inputMajor, 1, 41, 37, accumulate: true, specials: true);
    }

    [TestCaseSource(typeof(MatMulConfigs), nameof(MatMulConfigs.Best))]
    public void ThreadCount_DoesNotChangeTheResult(MatMulConfig config)
    {
        foreach (var (m, inputMajor) in new[] { (37, false), (37, true), (1, false), (1, true) })
        {
            var rng = RandomTensors.For($"matmul-threads/{config.Label}/{m}/{inputMajor}");
            const int n = 203, k = 611;
            using var w = RandomTensors.Create(rng, DType.BF16, inputMajor ? [k, n] : [n, k]);
            float[] x = RandomFloats(rng, m * k);
            float[] y1 = new float[m * n], y3 = new float[m * n];
            using (var one = config.IsNative ? (IMatMul)new PeftNative.Backends.NativeCpu.NativeCpuMatMul(1) : new PeftNative.Backends.Managed.ManagedMatMul(1))
                one.MatMul(x, m, w, inputMajor, y1);
            using (var three = config.IsNative ? (IMatMul)new PeftNative.Backends.NativeCpu.NativeCpuMatMul(3) : new PeftNative.Backends.Managed.ManagedMatMul(3))
                three.MatMul(x, m, w, inputMajor, y3);
            Assert.That(y3, Is.EqualTo(y1), $"{config.Label} m={m} inputMajor={inputMajor}: 1 and 3 threads differ");
        }
    }

    [TestCaseSource(typeof(MatMulConfigs), nameof(MatMulConfigs.Cases))]
    public void EmptyInnerDimension_GivesZerosOrLeavesY(MatMulConfig config)
    {
        using var product = config.Create();
        var rng = RandomTensors.For($"matmul-k0/{config.Label}");
        using var w = Tensor.Allocate(DType.F32, 5, 0);
        float[] y = RandomFloats(rng, 3 * 5);
        float[] before = (float[])y.Clone();
        product.MatMul([], 3, w, false, y, accumulate: true);
        Assert.That(y, Is.EqualTo(before), $"{config.Label}: k = 0 with accumulate changed y");
        product.MatMul([], 3, w, false, y);
        Assert.That(y, Is.All.EqualTo(0f), $"{config.Label}: k = 0 must give zeros");
        product.MatMul([], 0, w, false, []); // m = 0: nothing to do
    }

    [TestCaseSource(typeof(MatMulConfigs), nameof(MatMulConfigs.Cases))]
    public void BadArguments_ThrowAndLeaveYAsItWas(MatMulConfig config)
    {
        using var product = config.Create();
        var rng = RandomTensors.For($"matmul-errors/{config.Label}");
        using var w = RandomTensors.Create(rng, DType.BF16, [4, 5]);
        using var w1d = RandomTensors.Create(rng, DType.F32, [20]);
        using var w3d = RandomTensors.Create(rng, DType.F32, [2, 2, 5]);
        using var wInt = Tensor.Allocate(DType.I32, 4, 5);
        float[] x = RandomFloats(rng, 3 * 5);
        float[] y = RandomFloats(rng, 3 * 4);
        float[] before = (float[])y.Clone();
        void Expect<T>(Action call, string what, string fragment) where T : Exception
        {
            var e = Assert.Throws<T>(call, $"{config.Label}: {what}");
            Assert.That(e!.Message, Does.Contain(fragment), $"{config.Label}: {what}");
            Assert.That(y, Is.EqualTo(before), $"{config.Label}: {what} wrote y");
        }
        Expect<ArgumentException>(() => product.MatMul(x.AsSpan(1), 3, w, false, y), "short x", "x has 14 values");
        Expect<ArgumentException>(() => product.MatMul(x, 3, w, false, y.AsSpan(1)), "short y", "y has 11 values");
        Expect<ArgumentException>(() => product.MatMul(x, 3, w, true, y), "layout that does not fit", "x has 15 values, expected m x k = 3 x 4");
        Expect<ArgumentException>(() => product.MatMul(x, 3, w1d, false, y), "1-D weight", "2-D");
        Expect<ArgumentException>(() => product.MatMul(x, 3, w3d, false, y), "3-D weight", "2-D");
        Expect<ArgumentException>(() => product.MatMul(x, 3, wInt, false, y), "integer weight", "I32");
        Expect<ArgumentOutOfRangeException>(() => product.MatMul(x, -1, w, false, y), "negative m", "m must not be negative");
        Expect<ArgumentNullException>(() => product.MatMul(x, 3, null!, false, y), "null weight", "weight");
        float[] shared = RandomFloats(rng, 40);
        Assert.Throws<ArgumentException>(() => product.MatMul(shared.AsSpan(0, 15), 3, w, false, shared.AsSpan(10, 12)), $"{config.Label}: y overlapping x");
        var disposed = RandomTensors.Create(rng, DType.F32, [4, 5]);
        disposed.Dispose();
        Expect<ObjectDisposedException>(() => product.MatMul(x, 3, disposed, false, y), "disposed weight", "Tensor");
    }

    private static void RunCase(IMatMul product, MatMulConfig config, DType wType, bool inputMajor, int m, int n, int k, bool accumulate, bool specials)
    {
        string name = $"matmul/{config.Label}/{wType}/{inputMajor}/{m}x{n}x{k}/{accumulate}/{specials}";
        var rng = RandomTensors.For(name);
        using var w = RandomTensors.Create(rng, wType, inputMajor ? [k, n] : [n, k]);
        if (specials)
        {
            RandomTensors.SetBits(w, rng.NextInt64(w.ElementCount), RandomTensors.NaNBits(wType));
            RandomTensors.SetBits(w, rng.NextInt64(w.ElementCount), RandomTensors.InfBits(wType));
        }
        float[] x = RandomFloats(rng, m * k);
        using var y = new GuardedTensor(rng, DType.F32, [m, n]);
        if (!accumulate)
            y.Poison();
        double[] y0 = RandomTensors.ToDoubles(y.View);
        byte[] wBefore = RandomTensors.Bytes(w);
        float[] xBefore = (float[])x.Clone();

        double[] wd = RandomTensors.ToDoubles(w);
        var expected = new double[m * n];
        var magnitude = new double[m * n];
        for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++)
            {
                double s = accumulate ? y0[i * n + j] : 0, mag = Math.Abs(s);
                for (int p = 0; p < k; p++)
                {
                    double t = x[i * k + p] * wd[inputMajor ? p * n + j : j * k + p];
                    s += t;
                    mag += Math.Abs(t);
                }
                expected[i * n + j] = s;
                magnitude[i * n + j] = mag;
            }

        product.MatMul(x, m, w, inputMajor, y.View.AsSpan<float>(), accumulate);

        string context = $"{config.Label} W {wType.ShortName()} {(inputMajor ? "(k, n)" : "(n, k)")} m={m} n={n} k={k} accumulate={accumulate}";
        y.AssertGuardsIntact(context);
        Tolerances.AssertClose(context, y.View, expected, magnitude, k + 1, n);
        Assert.That(RandomTensors.Bytes(w), Is.EqualTo(wBefore), $"{context}: W was modified");
        Assert.That(x, Is.EqualTo(xBefore), $"{context}: x was modified");
    }

    private static float[] RandomFloats(Random rng, int count)
    {
        var a = new float[count];
        for (int i = 0; i < count; i++)
            a[i] = (float)RandomTensors.NextSigned(rng);
        return a;
    }
}
