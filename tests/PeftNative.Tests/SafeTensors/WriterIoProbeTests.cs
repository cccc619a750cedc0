using PeftNative.Benchmarking;
using PeftNative.SafeTensors;

namespace PeftNative.Tests.SafeTensors;

/// <summary>The I/O ratio probe's report and clean-up (no timing is asserted), and the directory fsync.</summary>
[TestFixture]
public class WriterIoProbeTests
{
    [Test]
    public void Probe_ReportsBothBandwidths_AndRemovesItsFiles()
    {
        using var dir = new ScratchDirectory();
        var result = SafetensorsIoProbe.Measure(SafetensorsIoProbeOptions.Tiny with { Directory = dir.Path });

        using (Assert.EnterMultipleScope())
        {
            Assert.That(result.WriteBytes, Is.EqualTo(8L << 20));
            Assert.That(result.PlainWriteGbps, Is.GreaterThan(0).And.Not.NaN);
            Assert.That(result.WriterGbps, Is.GreaterThan(0).And.Not.NaN);
            Assert.That(result.WriteRatio, Is.EqualTo(result.WriterGbps / result.PlainWriteGbps).Within(0.02 * result.WriteRatio + 0.01));
            Assert.That(result.Directory, Is.EqualTo(dir.Path));
            // Open is measured once the reader is in; until then the probe says why it is missing.
            foreach (var (value, name) in new[] { (result.OpenSmallMicroseconds, "small"), (result.OpenLargeMicroseconds, "large") })
            {
                if (value is null)
                    Assert.That(result.Notes, Has.Some.StartsWith($"open {name}: not measured"));
                else
                    Assert.That(value, Is.GreaterThan(0));
            }
            Assert.That(dir.Listing(), Is.Empty, "the probe removes its scratch folder");
        }
        Assert.That(result.ToJson(), Does.Contain("\"write_ratio\"").And.Contain("\"open_large_us\""));
    }

    [Test]
    public void Probe_RejectsBadSettings()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => SafetensorsIoProbe.Measure(SafetensorsIoProbeOptions.Tiny with { WriteBytes = 0 }));
        Assert.Throws<ArgumentException>(() => SafetensorsIoProbe.Measure(SafetensorsIoProbeOptions.Tiny with { Directory = "/nonexistent/peftnative" }));
    }

    [Test]
    public void SyncDirectory_CallsTheCLibrary_AndReportsErrors()
    {
        Assume.That(OperatingSystem.IsWindows(), Is.False, "no directory fsync on Windows");
        using var dir = new ScratchDirectory();
        Assert.DoesNotThrow(() => AtomicFileSet.SyncDirectory(dir.Path));
        var e = Assert.Throws<IOException>(() => AtomicFileSet.SyncDirectory(Path.Combine(dir.Path, "missing")));
        Assert.That(e!.Message, Does.Contain("missing"));
    }
}
