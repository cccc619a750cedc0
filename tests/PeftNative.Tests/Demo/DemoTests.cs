using System.Text.Json;
using PeftNative.Adapters;
using PeftNative.Composition;
using PeftNative.Demo;
using PeftNative.Models;
using PeftNative.Tests.SafeTensors;
using static PeftNative.Tests.Cli.CliProcess;

namespace PeftNative.Tests.Demo;

/// <summary>The built-in demo: its files are what it says, and it runs end to end.</summary>
[TestFixture]
public sealed class DemoTests
{
    [Test]
    public void Workspace_WritesALoadableModelAndAdaptersForEveryComposition()
    {
        using var dir = new TempDir();
        var shape = new DemoModelShape { VocabSize = 64, HiddenSize = 32, IntermediateSize = 48, Layers = 2, Heads = 4, KeyValueHeads = 2 };
        var workspace = DemoWorkspace.Create(dir.Path, shape);

        using var model = HuggingFaceModelDirectory.Open(workspace.ModelDirectory);
        Assert.That(model.Config.ModelType, Is.EqualTo("llama"));
        Assert.That(model.Weights.Tensors, Has.Count.EqualTo(3 + 2 * 9));
        Assert.That(workspace.ModelBytes, Is.EqualTo(4L * (2 * 64 * 32 + 32 + 2 * (2 * 32 + 2 * 32 * 32 + 2 * 16 * 32 + 3 * 48 * 32))));

        var adapters = DemoWorkspace.AdapterSpecs.ToDictionary(s => s.Name, s => PeftAdapter.Load(workspace.AdapterDirectory(s.Name)));
        try
        {
            foreach (var spec in DemoWorkspace.AdapterSpecs)
                Assert.That(adapters[spec.Name].Type, Is.EqualTo(spec.IsIa3 ? PeftType.Ia3 : PeftType.Lora), spec.Name);
            // Every module resolves to a model weight of the shape its update has.
            foreach (var lora in adapters["toxic"].LoraModules.Values)
            {
                var w = model.Weights.GetInfo(model.ResolveWeightName(lora.ModulePath));
                Assert.That(w.Shape, Is.EqualTo(new[] { lora.B.Shape[0], lora.A.Shape[1] }), lora.ModulePath);
            }
            // Every composition the demo runs is accepted by the composer.
            foreach (var c in DemoWorkspace.Compositions)
                using (var result = AdapterComposer.Compose(ModuleExpression.Parse(c.Expression), adapters))
                    Assert.That(result.Adapter.ModuleCount, Is.GreaterThan(0), c.Expression);
            // Same-task adapters are closer than different tasks (they share a direction), and none is zero.
            var a1 = adapters["reviews_split1"].LoraModules.Values.First();
            var a2 = adapters["reviews_split2"].LoraModules.Values.First(m => m.ModulePath == a1.ModulePath);
            var other = adapters["nli"].LoraModules.Values.First(m => m.ModulePath == a1.ModulePath);
            Assert.That(Cosine(a1.B, a2.B), Is.GreaterThan(Cosine(a1.B, other.B) + 0.3));
        }
        finally
        {
            foreach (var a in adapters.Values)
                a.Dispose();
        }
    }

    [Test]
    public void Workspace_IsDeterministic()
    {
        using var one = new TempDir();
        using var two = new TempDir();
        var shape = new DemoModelShape { VocabSize = 40, HiddenSize = 16, IntermediateSize = 24, Layers = 1, Heads = 2, KeyValueHeads = 1 };
        DemoWorkspace.Create(one.Path, shape);
        DemoWorkspace.Create(two.Path, shape);
        Assert.That(File.ReadAllBytes(Path.Combine(one.Path, "model", "model.safetensors")),
            Is.EqualTo(File.ReadAllBytes(Path.Combine(two.Path, "model", "model.safetensors"))));
        Assert.That(File.ReadAllBytes(Path.Combine(one.Path, "adapters", "toxic", "adapter_model.safetensors")),
            Is.EqualTo(File.ReadAllBytes(Path.Combine(two.Path, "adapters", "toxic", "adapter_model.safetensors"))));
        Assert.That(() => DemoWorkspace.Create(one.Path, shape), Throws.InstanceOf<IOException>().With.Message.Contains("already exists"));
    }

    [Test]
    public void Runner_MergedAndRuntimeLogitsAgree_AndTheMergeChangesTheModel()
    {
        using var dir = new TempDir();
        var shape = new DemoModelShape { VocabSize = 96, HiddenSize = 64, IntermediateSize = 96, Layers = 2, Heads = 4, KeyValueHeads = 2 };
        var report = DemoRunner.Run(new DemoOptions { Root = dir.Path, Shape = shape, Tokens = 40 });
        using (Assert.EnterMultipleScope())
        {
            Assert.That(report.Agrees, Is.True, $"max relative difference {report.MaxRelativeLogitDifference}");
            Assert.That(report.Compositions, Has.Count.EqualTo(DemoWorkspace.Compositions.Count));
            Assert.That(report.MergeTensorsTouched, Is.EqualTo(2 * shape.Layers));
            Assert.That(report.PerplexityBefore, Is.GreaterThan(1).And.LessThan(double.PositiveInfinity));
            Assert.That(report.PerplexityAfter, Is.Not.EqualTo(report.PerplexityBefore).Within(1e-9));
            // The unlearning composition applied at run time gives the merged model's perplexity.
            var detox = report.Compositions.Single(c => c.Expression == report.MergedExpression);
            Assert.That(detox.Perplexity, Is.EqualTo(report.PerplexityAfter).Within(1e-3).Percent);
            Assert.That(Directory.Exists(report.MergedDirectory), Is.True);
        }
    }

    [Test]
    public void Cli_Json_ReportsEveryStep_AndKeepLeavesTheFiles()
    {
        using var dir = new TempDir();
        string keep = Path.Combine(dir.Path, "demo");
        var (rc, stdout, stderr) = Run("demo", "--json", "--keep", keep);
        Assert.That(rc, Is.Zero, stderr);
        using var doc = JsonDocument.Parse(stdout);
        var root = doc.RootElement;
        Assert.That(root.GetProperty("agreement").GetProperty("agrees").GetBoolean(), Is.True);
        Assert.That(root.GetProperty("compositions").GetArrayLength(), Is.EqualTo(DemoWorkspace.Compositions.Count));
        Assert.That(root.GetProperty("caveat").GetString(), Does.Contain("random"));
        Assert.That(Directory.Exists(Path.Combine(keep, "model")) && Directory.Exists(Path.Combine(keep, "adapters", "toxic")), Is.True);

        // A second run into the same place refuses, with one line and exit code 2.
        AssertFails(Run("demo", "--keep", keep), 2, "already exists");
        AssertFails(Run("demo", "--threads", "-1"), 2, "--threads");
        AssertFails(Run("demo", "--frobnicate"), 2, "--frobnicate");
    }

    private static double Cosine(Tensor x, Tensor y)
    {
        var a = x.AsSpan<float>();
        var b = y.AsSpan<float>();
        double dot = 0, na = 0, nb = 0;
        for (int i = 0; i < a.Length; i++)
        {
            dot += (double)a[i] * b[i];
            na += (double)a[i] * a[i];
            nb += (double)b[i] * b[i];
        }
        return dot / Math.Sqrt(na * nb);
    }
}
