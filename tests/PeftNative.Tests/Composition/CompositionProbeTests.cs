using System.Text.Json;
using PeftNative.Benchmarking;

namespace PeftNative.Tests.Composition;

/// <summary>The composition ratio probe on tiny sizes: both routes agree, every figure is filled in, JSON round-trips.</summary>
public class CompositionProbeTests
{
    [Test]
    public void Tiny_MeasuresBothFigures()
    {
        var r = CompositionProbe.Measure(CompositionProbeOptions.Tiny with { Backend = "managed" });
        var svd = r.Svd.Single();
        using (Assert.EnterMultipleScope())
        {
            Assert.That(svd.Size, Is.EqualTo(96));
            Assert.That(svd.LeadingSingularValueDifference, Is.LessThan(1e-10), "both routes give the same leading singular values");
            Assert.That(svd.FactorSeconds, Is.GreaterThan(0));
            Assert.That(svd.Ratio, Is.EqualTo(svd.DenseSeconds / svd.FactorSeconds).Within(0.01 * svd.Ratio));
            var affine = r.Paper.Single(p => p.Route == "affine");
            // 2 layers x 7 targets; 3 inputs + 1 output per factor, bf16: r * (in + out) * 2 bytes each
            long perSet = 2 * (4 * 4 * (64 + 64) + 2 * 4 * (96 + 64) + 4 * (64 + 96)) * 2;
            Assert.That(affine.Modules, Is.EqualTo(14));
            Assert.That(affine.Bytes, Is.EqualTo(perSet * 4));
            Assert.That(affine.Backend, Is.EqualTo("managed"));
            Assert.That(affine.Roofline, Is.GreaterThan(0));
            Assert.That(r.Probe!.MemGbps, Is.GreaterThan(0));
            // until the composer lands, the probe says it measured the stand-in
            Assert.That(r.Paper.Any(p => p.Route == "composer") || r.Notes.Any(n => n.Contains("stand-in", StringComparison.Ordinal)), Is.True);
        }
        using var doc = JsonDocument.Parse(r.ToJson());
        Assert.That(doc.RootElement.GetProperty("svd")[0].GetProperty("leading_singular_value_difference").GetDouble(), Is.EqualTo(svd.LeadingSingularValueDifference));
        Assert.That(doc.RootElement.GetProperty("paper")[0].TryGetProperty("roofline", out _), Is.True);
    }

    [Test]
    public void BadSettings_AreRefused()
    {
        Assert.That(() => CompositionProbe.Measure(CompositionProbeOptions.Tiny with { Rank = 0 }), Throws.ArgumentException.With.Message.Contains("Rank"));
        Assert.That(() => CompositionProbe.Measure(CompositionProbeOptions.Tiny with { DType = DType.I32 }), Throws.ArgumentException);
    }
}
