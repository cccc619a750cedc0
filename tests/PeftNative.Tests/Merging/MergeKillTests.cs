using System.Diagnostics;
using PeftNative.Adapters;

namespace PeftNative.Tests.Merging;

/// <summary>
/// Kills `peftnative merge` (a child process) at random points while it writes a model of a few
/// tens of MB: no output directory appears, the inputs are unchanged, and the next merge into the
/// same place succeeds and removes the stale temporary siblings.
/// </summary>
[TestFixture]
[NonParallelizable]
public class MergeKillTests
{
    private string _root = "";

    [SetUp]
    public void SetUp() => _root = TestModels.NewDirectory("kill");

    [TearDown]
    public void TearDown() => TestModels.Delete(_root);

    [Test]
    public void KilledMidMerge_LeavesNoOutput_AndTheNextMergeSucceeds()
    {
        var rng = RandomTensors.For("kill");
        // about 50 MB of f32 weights over 4 layers
        string model = TestModels.Write(Path.Combine(_root, "base"), "llama",
            TestModels.LlamaShapes(layers: 4, hidden: 384, kv: 192, intermediate: 1031, vocab: 3001), DType.F32, rng, maxShardBytes: 20_000_000);
        string adapterDir = Path.Combine(_root, "adapter");
        var targets = Enumerable.Range(0, 4).SelectMany(i => new (string, long, long)[]
        {
            ($"model.layers.{i}.self_attn.q_proj", 384, 384), ($"model.layers.{i}.mlp.down_proj", 384, 1031),
        });
        using (var adapter = TestModels.Lora(rng, targets, rank: 8, alpha: 16, DType.F32))
            adapter.Save(adapterDir);
        var modelBefore = TestModels.Hashes(model);
        var adapterBefore = TestModels.Hashes(adapterDir);
        string output = Path.Combine(_root, "merged");

        int killedMidWrite = 0;
        for (int attempt = 0; attempt < 4; attempt++)
        {
            using var child = StartMerge(model, adapterDir, output);
            // wait until it has started writing (its temporary directory exists), then a random moment more
            var clock = Stopwatch.StartNew();
            while (!child.HasExited && TestModels.Temporaries(output).Length == 0 && clock.Elapsed < TimeSpan.FromSeconds(60))
                Thread.Sleep(2);
            Thread.Sleep(rng.Next(0, 250));
            if (!child.HasExited)
            {
                child.Kill(entireProcessTree: true);
                killedMidWrite++;
            }
            Assert.That(child.WaitForExit(30_000), Is.True);
            if (child.ExitCode == 0 && Directory.Exists(output))
            {
                Directory.Delete(output, recursive: true); // finished before the kill: try again
                continue;
            }
            Assert.That(Directory.Exists(output), Is.False, $"attempt {attempt}: a killed merge published no output");
            Assert.That(TestModels.Hashes(model), Is.EqualTo(modelBefore), "model unchanged");
            Assert.That(TestModels.Hashes(adapterDir), Is.EqualTo(adapterBefore), "adapter unchanged");
        }
        Assert.That(killedMidWrite, Is.GreaterThan(0), "at least one kill landed while the merge was writing");
        Assert.That(TestModels.Temporaries(output), Is.Not.Empty, "the killed merges left recognisable temporaries");

        using var last = StartMerge(model, adapterDir, output);
        var stderrTask = last.StandardError.ReadToEndAsync();
        string stdout = last.StandardOutput.ReadToEnd();
        Assert.That(last.WaitForExit(120_000), Is.True);
        string stderr = stderrTask.Result;
        Assert.That(last.ExitCode, Is.EqualTo(0), stderr);
        Assert.That(Directory.Exists(output), Is.True);
        Assert.That(TestModels.Temporaries(output), Is.Empty, "the next merge removed the stale temporaries");
        Assert.That(stdout, Does.Contain("left by an interrupted merge"), "the summary notes what was removed");
        Assert.That(TestModels.Hashes(model), Is.EqualTo(modelBefore));
    }

    private static Process StartMerge(string model, string adapter, string output)
    {
        string cli = Path.Combine(AppContext.BaseDirectory, "PeftNative.Cli.dll");
        string dotnet = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host ? host : "dotnet";
        var start = new ProcessStartInfo(dotnet) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (string a in new[] { cli, "merge", "--model", model, "--adapter", adapter, "--out", output, "--threads", "1" })
            start.ArgumentList.Add(a);
        return Process.Start(start)!;
    }
}
