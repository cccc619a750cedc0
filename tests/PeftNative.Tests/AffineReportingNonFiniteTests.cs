using PeftNative.Backends;

namespace PeftNative.Tests;

/// <summary>
/// <see cref="IKernelBackend.AffineReportingNonFinite"/> on every backend configuration: it writes
/// the very bits <see cref="IKernelBackend.Affine"/> writes (native-cpu takes another path: fused
/// check, non-temporal stores), reports nothing on finite data, reports a NaN or ±Inf planted at any
/// position of any input (vector tails included), and reports exactly the sums that overflow the
/// output dtype when rounded (f16: 65520 is the first, bf16: 0x7F7F8000).
/// </summary>
[TestFixture]
public class AffineReportingNonFiniteTests
{
    private static IEnumerable<long> Lengths()
    {
        for (long n = 1; n <= 70; n++)
            yield return n;
        foreach (long n in new long[] { 1031, 131_085 })
            yield return n;
    }

    [TestCaseSource(typeof(TestBackends), nameof(TestBackends.KernelByDTypePair))]
    public void FiniteData_SameBitsAsAffine_NoReport(BackendConfig config, DType inType, DType outType)
    {
        using var backend = config.Create();
        foreach (long n in Lengths())
        {
            var (report, context) = Run(backend, config, inType, outType, n, plant: null);
            Assert.That(report, Is.False, $"{context}: reported a non-finite value in finite data");
        }
    }

    [TestCaseSource(typeof(TestBackends), nameof(TestBackends.KernelByDTypePair))]
    public void PlantedNaNOrInfinity_IsReported(BackendConfig config, DType inType, DType outType)
    {
        using var backend = config.Create();
        foreach (long n in Lengths())
        {
            var rng = RandomTensors.For($"affine-report-plant/{inType}/{n}");
            // the last element (a vector tail) every third length, else anywhere
            long at = n % 3 == 0 ? n - 1 : rng.NextInt64(n);
            var (report, context) = Run(backend, config, inType, outType, n, plant: (at, Infinity: n % 2 == 0));
            Assert.That(report, Is.True, $"{context}: a {(n % 2 == 0 ? "±Inf" : "NaN")} at element {at} was not reported");
        }
    }

    [TestCaseSource(typeof(TestBackends), nameof(TestBackends.KernelCases))]
    public void OverflowOfTheOutputDType_IsReportedAtTheRoundingBoundary(BackendConfig config)
    {
        using var backend = config.Create();
        (DType Out, uint Bits, float Weight, bool Overflows)[] cases =
        [
            (DType.F16, 0x477F_EFFFu, 1f, false), // 65519.996 rounds down to 65504
            (DType.F16, 0x477F_F000u, 1f, true),  // 65520, the midpoint, rounds to +Inf
            (DType.F16, 0xC77F_F000u, 1f, true),  // -65520
            (DType.BF16, 0x7F7F_7FFFu, 1f, false),
            (DType.BF16, 0x7F7F_8000u, 1f, true), // bf16 max + half an ulp
            (DType.F32, 0x7F7F_FFFFu, 1f, false), // float.MaxValue
            (DType.F32, 0x7F7F_FFFFu, 2f, true),
        ];
        foreach (var (outType, bits, weight, overflows) in cases)
        {
            // 33 copies: the value sits in full vectors and in the tail
            using var x = Tensor.Allocate(DType.F32, 33);
            x.AsSpan<uint>().Fill(bits);
            using var output = Tensor.Allocate(outType, 33);
            bool report = backend.AffineReportingNonFinite([x], [weight], 0f, output);
            string context = $"{config} f32 0x{bits:X8} x {weight} -> {outType}";
            Assert.That(report, Is.EqualTo(overflows), $"{context}: report");
            Assert.That(RandomTensors.ToDoubles(output).All(double.IsFinite), Is.EqualTo(!overflows), $"{context}: stored values");
        }
    }

    [TestCaseSource(typeof(TestBackends), nameof(TestBackends.KernelCases))]
    public void InvalidArguments_ThrowAsAffineDoes(BackendConfig config)
    {
        using var backend = config.Create();
        var rng = RandomTensors.For("affine-report-invalid");
        using var x = RandomTensors.Create(rng, DType.F32, [10]);
        using var output = RandomTensors.Create(rng, DType.F32, [11]);
        byte[] before = RandomTensors.Bytes(output);
        Assert.That(() => backend.AffineReportingNonFinite([x], [1f], 0f, output), Throws.ArgumentException.With.Message.Contains("shape"));
        Assert.That(() => backend.AffineReportingNonFinite([x], [float.NaN], 0f, x), Throws.ArgumentException.With.Message.Contains("weight"));
        Assert.That(RandomTensors.Bytes(output), Is.EqualTo(before), $"{config}: a refused call wrote the output");
        using var empty = Tensor.Allocate(DType.F32, 0);
        Assert.That(backend.AffineReportingNonFinite([empty], [1f], 0f, empty), Is.False);
    }

    /// <summary>Affine into one poisoned output, the reporting call into another; asserts equal bits and intact guards.</summary>
    private static (bool Report, string Context) Run(IKernelBackend backend, BackendConfig config, DType inType, DType outType, long n, (long At, bool Infinity)? plant)
    {
        string context = $"{config} affine-report {inType}->{outType} n={n}";
        var rng = RandomTensors.For(context + (plant is null ? "" : "/plant"));
        int k = 1 + (int)(n % 5);
        var inputs = new Tensor[k];
        try
        {
            for (int i = 0; i < k; i++)
                inputs[i] = RandomTensors.Create(rng, inType, [n]);
            if (plant is { } p)
            {
                uint bits = p.Infinity ? RandomTensors.InfBits(inType) | (rng.Next(2) == 0 ? 0u : inType == DType.F32 ? 0x8000_0000u : 0x8000u) : RandomTensors.NaNBits(inType);
                RandomTensors.SetBits(inputs[rng.Next(k)], p.At, bits);
            }
            float[] weights = Enumerable.Range(0, k).Select(_ => (float)RandomTensors.NextSigned(rng, 0.1, 2)).ToArray();
            float c = (float)RandomTensors.NextSigned(rng);
            using var expected = new GuardedTensor(rng, outType, [n]);
            using var actual = new GuardedTensor(rng, outType, [n]);
            expected.Poison();
            actual.Poison();
            backend.Affine(inputs, weights, c, expected.View);
            bool report = backend.AffineReportingNonFinite(inputs, weights, c, actual.View);
            actual.AssertGuardsIntact(context);
            Assert.That(RandomTensors.Bytes(actual.View), Is.EqualTo(RandomTensors.Bytes(expected.View)), $"{context}: other bits than Affine");
            return (report, context);
        }
        finally
        {
            foreach (var t in inputs)
                t?.Dispose();
        }
    }
}
