using PeftNative.Backends;
using PeftNative.Backends.Ilgpu;

namespace PeftNative.Tests.Backends.Ilgpu;

/// <summary>
/// ILGPU on a real CUDA GPU, at a size the CPU accelerator could not afford: every test is
/// ignored with "no CUDA device: ..." when there is none, never passed silently. (The shared
/// kernel tests also run on the GPU, as the "ilgpu/cuda" configuration of <see cref="TestBackends"/>.)
/// </summary>
[TestFixture]
[Category("Gpu")]
[Category("Ilgpu")]
public class IlgpuGpuTests
{
    [SetUp]
    public void RequireGpu()
    {
        if (!IlgpuBackend.IsCudaAvailable(out string? reason))
            Assert.Ignore($"no CUDA device: {reason}");
    }

    [Test]
    public void Gpu_IsDescribedByName()
    {
        using var backend = new IlgpuBackend(0, IlgpuAcceleratorKind.Cuda);
        Assert.That(backend.Accelerator, Is.EqualTo(IlgpuAcceleratorKind.Cuda));
        Assert.That(backend.Description, Does.StartWith("cuda: "));
        TestContext.Out.WriteLine(backend.ToString());
    }

    /// <summary>A bf16 W of 2053 x 1531 (tails in both directions) with rank 64 + 16 factors, both layouts, against float64.</summary>
    [TestCase(false)]
    [TestCase(true)]
    public void LargeBf16Merge_MatchesFloat64(bool fanInFanOut)
    {
        const long outF = 2053, inF = 1531;
        var rng = RandomTensors.For($"ilgpu-gpu-merge/{fanInFanOut}");
        long[] shape = fanInFanOut ? [inF, outF] : [outF, inF];
        using var w = new GuardedTensor(rng, DType.BF16, shape);
        var before = RandomTensors.ToDoubles(w.View);
        var factors = new[] { (Rank: 64, DType: DType.BF16, Scale: 0.5f), (Rank: 16, DType: DType.F16, Scale: -1.25f) }
            .Select(f => (B: RandomTensors.Create(rng, f.DType, [outF, f.Rank], 0.01, 0.125), A: RandomTensors.Create(rng, f.DType, [f.Rank, inF], 0.01, 0.125), f.Scale))
            .ToArray();
        try
        {
            var expected = (double[])before.Clone();
            var magnitude = before.Select(Math.Abs).ToArray();
            foreach (var (b, a, s) in factors)
            {
                var bd = RandomTensors.ToDoubles(b);
                var ad = RandomTensors.ToDoubles(a);
                long r = b.Shape[1];
                Parallel.For(0, outF, o =>
                {
                    for (long i = 0; i < inF; i++)
                    {
                        double d = 0, m = 0;
                        for (long q = 0; q < r; q++)
                        {
                            double p = bd[o * r + q] * ad[q * inF + i];
                            d += p;
                            m += Math.Abs(p);
                        }
                        long at = fanInFanOut ? i * outF + o : o * inF + i;
                        expected[at] += s * d;
                        magnitude[at] += Math.Abs(s) * m;
                    }
                });
            }
            for (long j = 0; j < expected.Length; j++)
                expected[j] = FloatOracles.BFloat16BitsToDouble((ushort)FloatOracles.To16(DType.BF16, (float)expected[j]));
            using var backend = new IlgpuBackend(0, IlgpuAcceleratorKind.Cuda);
            backend.LowRankMerge(w.View, factors.Select(f => new LowRankUpdate(f.B, f.A, f.Scale)).ToArray(), fanInFanOut);
            string context = $"{backend} lowrank_merge bf16 {RandomTensors.ShapeText(shape)} ranks 64+16 fan_in_fan_out={fanInFanOut}";
            w.AssertGuardsIntact(context);
            Tolerances.AssertClose(context, w.View, expected, magnitude, 81, shape[1]);
        }
        finally
        {
            foreach (var (b, a, _) in factors)
            {
                b.Dispose();
                a.Dispose();
            }
        }
    }
}
