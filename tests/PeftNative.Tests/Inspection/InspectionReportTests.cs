using System.Text.Json;
using PeftNative.Inspection;
using PeftNative.SafeTensors;
using PeftNative.Tests.SafeTensors;

namespace PeftNative.Tests.Inspection;

/// <summary>The inspect report on real fixtures and written checkpoints, and the CLI's exit codes.</summary>
public class InspectionReportTests
{
    [Test]
    public void RealLlamaAdapter_RanksScalingTargetsAndTotals()
    {
        var report = InspectionReport.Inspect(Fixtures.RealAdapter("smollm135m-medical-lora-5ep"));
        // 30 layers x (q_proj: A 16x576 + B 576x16, v_proj: A 16x576 + B 192x16)
        long expectedParameters = 30L * (16 * 576 + 576 * 16 + 16 * 576 + 192 * 16);
        using (Assert.EnterMultipleScope())
        {
            Assert.That(report.Kind, Is.EqualTo(InspectionKind.Adapter));
            Assert.That(report.Modules, Has.Count.EqualTo(60));
            Assert.That(report.Modules.Select(m => m.Rank).Distinct(), Is.EqualTo(new int?[] { 16 }));
            Assert.That(report.Modules.Select(m => m.Scaling).Distinct(), Is.EqualTo(new double?[] { 2.0 }));
            Assert.That(report.Targets, Is.EquivalentTo(new[] { "q_proj", "v_proj" }));
            Assert.That(report.Tensors, Has.Count.EqualTo(120));
            Assert.That(report.TotalParameters, Is.EqualTo(expectedParameters));
            Assert.That(report.TotalBytes, Is.EqualTo(expectedParameters * 4));
            Assert.That(report.Modules.Sum(m => m.Parameters), Is.EqualTo(expectedParameters));
            var v = report.Modules.Single(m => m.Module == "model.layers.3.self_attn.v_proj");
            Assert.That((v.InFeatures, v.OutFeatures), Is.EqualTo((576L, (long?)192)));
            // natural order: layer 2 before layer 10
            var paths = report.Modules.Select(m => m.Module).ToList();
            Assert.That(paths.IndexOf("model.layers.2.self_attn.q_proj"), Is.LessThan(paths.IndexOf("model.layers.10.self_attn.q_proj")));
            Assert.That(report.Summary.Single(kv => kv.Key == "r").Value, Is.EqualTo("16"));
        }
    }

    [Test]
    public void Gpt2AdapterAndModel_AreRecognised()
    {
        var adapter = InspectionReport.Inspect(Fixtures.RealAdapter("gpt2-tigrinya-lora"));
        var model = InspectionReport.Inspect(Fixtures.ReferenceModel("gpt2-tiny/base"));
        using (Assert.EnterMultipleScope())
        {
            Assert.That(adapter.Modules, Has.Count.EqualTo(36));
            Assert.That(adapter.Modules.Select(m => m.Scaling).Distinct(), Is.EqualTo(new double?[] { 4.0 }));
            Assert.That(adapter.Summary.Single(kv => kv.Key == "fan_in_fan_out").Value, Is.EqualTo("true"));
            Assert.That(model.Kind, Is.EqualTo(InspectionKind.Model));
            Assert.That(model.Summary.Single(kv => kv.Key == "model_type").Value, Is.EqualTo("gpt2"));
            Assert.That(model.Tensors.Single(t => t.Name == "transformer.h.0.attn.c_attn.weight").Shape, Is.EqualTo(new long[] { 32, 96 }));
        }
    }

    [Test]
    public void ShardedCheckpoint_ListsEveryShard()
    {
        using var dir = new TempDir();
        var rng = new Random(5);
        var entries = Enumerable.Range(0, 6).Select(i =>
        {
            var bytes = new byte[4096 + i * 4];
            rng.NextBytes(bytes);
            return SafetensorsEntry.FromBytes($"w{i}", DType.F32, [bytes.Length / 4], bytes);
        }).ToList();
        var written = SafetensorsWriter.Write(dir.File("model.safetensors"), entries, options: new SafetensorsWriteOptions { MaxShardBytes = 8300 });
        var report = InspectionReport.Inspect(dir.Path);
        using (Assert.EnterMultipleScope())
        {
            Assert.That(written.Files, Has.Count.GreaterThan(1));
            Assert.That(report.Kind, Is.EqualTo(InspectionKind.Checkpoint));
            Assert.That(report.Files, Has.Count.EqualTo(written.Files.Count));
            Assert.That(report.TotalBytes, Is.EqualTo(entries.Sum(e => e.ByteLength)));
            Assert.That(report.Tensors.Select(t => t.File).Distinct().Count(), Is.EqualTo(written.Files.Count));
            Assert.That(InspectionReport.Inspect(written.Files[0]).Kind, Is.EqualTo(InspectionKind.Safetensors));
        }
    }

    [Test]
    public void Json_CarriesTheSameFacts()
    {
        var report = InspectionReport.Inspect(Fixtures.ReferenceModel("gpt2-tiny/adapters/ia3_a"));
        using var doc = JsonDocument.Parse(report.ToJson());
        var root = doc.RootElement;
        using (Assert.EnterMultipleScope())
        {
            Assert.That(root.GetProperty("kind").GetString(), Is.EqualTo("adapter"));
            Assert.That(root.GetProperty("total_parameters").GetInt64(), Is.EqualTo(report.TotalParameters));
            Assert.That(root.GetProperty("tensors").GetArrayLength(), Is.EqualTo(report.Tensors.Count));
            Assert.That(root.GetProperty("modules").EnumerateArray().Select(m => m.GetProperty("type").GetString()).Distinct(), Is.EqualTo(new[] { "ia3" }));
            Assert.That(root.GetProperty("modules").EnumerateArray().Any(m => m.GetProperty("feedforward").GetBoolean()), Is.True);
            Assert.That(root.GetProperty("summary").GetProperty("peft_type").GetString(), Is.EqualTo("IA3"));
        }
    }

    [Test]
    public void MissingAndBrokenInputs_AreClearErrors()
    {
        using var dir = new TempDir();
        string broken = dir.File("x.safetensors");
        File.WriteAllBytes(broken, [1, 2, 3]);
        Assert.That(() => InspectionReport.Inspect(dir.File("nothing")), Throws.TypeOf<FileNotFoundException>().With.Message.Contains("nothing"));
        Assert.That(() => InspectionReport.Inspect(broken), Throws.TypeOf<SafetensorsFormatException>().With.Message.Contains(broken));
    }

    [Test]
    public void Cli_PrintsTheReport_AndExitsWithClearCodes()
    {
        string adapter = Fixtures.ReferenceModel("llama-tiny/adapters/lora_qv");
        var (rc, stdout, _) = RunCli("inspect", adapter, "--json");
        Assert.That(rc, Is.EqualTo(0));
        using (var doc = JsonDocument.Parse(stdout))
            Assert.That(doc.RootElement.GetProperty("kind").GetString(), Is.EqualTo("adapter"));

        (rc, stdout, _) = RunCli("inspect", adapter);
        Assert.That(rc, Is.EqualTo(0));
        Assert.That(stdout, Does.Contain("q_proj").And.Contain("parameters"));

        using var dir = new TempDir();
        File.WriteAllBytes(dir.File("bad.safetensors"), [9, 0, 0, 0, 0, 0, 0, 0, 1]);
        var (badRc, _, badErr) = RunCli("inspect", dir.File("bad.safetensors"));
        var (usageRc, _, usageErr) = RunCli("inspect");
        using (Assert.EnterMultipleScope())
        {
            Assert.That(badRc, Is.EqualTo(2));
            Assert.That(badErr.Trim().Split('\n'), Has.Length.EqualTo(1));
            Assert.That(badErr, Does.Contain("bad.safetensors"));
            Assert.That(usageRc, Is.EqualTo(2));
            Assert.That(usageErr, Does.Contain("usage"));
        }
    }

    private static (int ExitCode, string StdOut, string StdErr) RunCli(params string[] args) => Cli.CliProcess.Run(args);
}
