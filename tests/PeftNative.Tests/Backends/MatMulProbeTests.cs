using System.Text.Json;
using PeftNative.Benchmarking;

namespace PeftNative.Tests.Backends;

/// <summary>
/// <see cref="GemmProbe"/> (<c>peftnative bench --gemm</c>) on tiny shapes: every case is measured
/// and related to the roofs of the same run, the JSON carries the fields, and bad settings are
/// refused. No timing is asserted (speed is shown by the probe itself, not by tests).
/// </summary>
[TestFixture]
public class MatMulProbeTests
{
    [Test]
    public void TinyRun_MeasuresEveryCaseAgainstTheRoofsOfTheRun()
    {
        var options = GemmProbeOptions.Tiny with { Products = ["managed"], Threads = 1 };
        var r = GemmProbe.Measure(options);
        Assert.That(r.Prefill, Has.Count.EqualTo(options.Shapes.Count * options.PrefillRows.Count));
        Assert.That(r.Decode, Has.Count.EqualTo(options.DecodeShapes.Count));
        Assert.That(r.Probe.FmaGflops, Is.GreaterThan(0));
        Assert.That(r.Probe.MemGbps, Is.GreaterThan(0));
        foreach (var c in r.Prefill)
        {
            Assert.That(c.Product, Is.EqualTo("managed"));
            Assert.That(c.M, Is.EqualTo(13));
            Assert.That(c.Roof, Is.EqualTo("fma"));
            Assert.That(c.Seconds, Is.GreaterThan(0).And.LessThanOrEqualTo(c.MedianSeconds));
            Assert.That(c.Ratio, Is.EqualTo(c.Gflops / r.Probe.FmaGflops).Within(0.01).Percent.Or.EqualTo(c.Gflops / r.Probe.FmaGflops).Within(0.001));
            Assert.That(c.CpuTimeRatio, Is.Not.Null);
        }
        var d = r.Decode.Single();
        Assert.That((d.M, d.N, d.K, d.DType, d.Roof), Is.EqualTo((1, 80, 96, "f16", "memory")));
        Assert.That(d.Gbps, Is.EqualTo((80.0 * 96 * 2 + 4 * 96 + 4 * 80) / d.Seconds / 1e9).Within(1).Percent);
        Assert.That(d.CpuTimeRatio, Is.Null);

        using var json = JsonDocument.Parse(r.ToJson());
        var first = json.RootElement.GetProperty("prefill")[0];
        foreach (string key in new[] { "product", "label", "m", "n", "k", "dtype", "weight_is_input_major", "gflops", "ratio", "cpu_time_ratio", "adjacent_fma_gflops" })
            Assert.That(first.TryGetProperty(key, out _), Is.True, $"JSON lacks {key}");
        Assert.That(json.RootElement.GetProperty("probe").GetProperty("fma_gflops").GetDouble(), Is.GreaterThan(0));
    }

    [Test]
    public void BadSettings_AreRefused()
    {
        Assert.Throws<ArgumentException>(() => GemmProbe.Measure(GemmProbeOptions.Tiny with { Repeats = 0 }));
        Assert.Throws<ArgumentException>(() => GemmProbe.Measure(GemmProbeOptions.Tiny with { PrefillRows = [0] }));
        Assert.Throws<ArgumentException>(() => GemmProbe.Measure(GemmProbeOptions.Tiny with { Shapes = [new GemmShape("bad", 4, 4, false, DType.I32)] }));
        var e = Assert.Throws<ArgumentException>(() => GemmProbe.Measure(GemmProbeOptions.Tiny with { Products = ["reference"] }));
        Assert.That(e!.Message, Does.Contain("unknown matrix product 'reference'"));
    }
}
