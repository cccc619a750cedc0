using PeftNative.Adapters;
using PeftNative.Backends;
using PeftNative.Composition;
using PeftNative.Demo;
using PeftNative.Evaluation;
using PeftNative.Merging;
using PeftNative.Models.Transformer;
using PeftNative.Tests.SafeTensors;

namespace PeftNative.Tests;

/// <summary>The README's C# example is this test's code, line for line, and it runs.</summary>
[TestFixture]
public class ReadmeTests
{
    [Test]
    public void LibraryExample_RunsAndGivesTheDocumentedValue()
    {
        // README:begin
        using IKernelBackend backend = KernelBackendFactory.Create();   // native-cpu, else managed
        using Tensor w = Tensor.Allocate(DType.BF16, 256, 512);        // base weight, out x in
        using Tensor b = Tensor.Allocate(DType.F32, 256, 16);          // LoRA B, out x r
        using Tensor a = Tensor.Allocate(DType.F32, 16, 512);          // LoRA A, r x in
        b.AsSpan<float>().Fill(0.01f);
        a.AsSpan<float>().Fill(0.02f);
        // W += (lora_alpha / r) * B @ A, in place, one pass over W, f32 accumulation, rounded once
        backend.LowRankMerge(w, [new LowRankUpdate(b, a, Scale: 32f / 16)], fanInFanOut: false);
        float first = w.AsSpan<BFloat16>()[0].ToSingle();              // 0.0064 = 2 * 16 * 0.01 * 0.02
        // README:end
        Assert.That(first, Is.EqualTo(0.0064f).Within(0.0064f / 128), "bf16 keeps 8 significant bits");
        Assert.That(w.AsSpan<BFloat16>()[^1].ToSingle(), Is.EqualTo(first), "every element gets the same update");
    }

    [Test]
    [NonParallelizable] // the example uses relative paths: it runs in a demo workspace as the working directory
    public void HighLevelExample_ComposesMergesAndEvaluates()
    {
        using var dir = new TempDir();
        var shape = new DemoModelShape { VocabSize = 320, HiddenSize = 32, IntermediateSize = 48, Layers = 1, Heads = 4, KeyValueHeads = 2 };
        DemoWorkspace.Create(dir.Path, shape);
        string previous = Environment.CurrentDirectory;
        Environment.CurrentDirectory = dir.Path;
        try
        {
            // README:high-level:begin
            using var instruct = PeftAdapter.Load("adapters/instruct");
            using var toxic = PeftAdapter.Load("adapters/toxic");
            using var detox = AdapterComposer.Compose(ModuleExpression.Parse("instruct - 0.5*toxic"),
                new Dictionary<string, PeftAdapter> { ["instruct"] = instruct, ["toxic"] = toxic });
            detox.Save("detox");                                                // a PEFT adapter directory
            MergeResult merge = ModelMerger.Merge("model", detox.Adapter, "model-detox");
            using var merged = TransformerModel.Load("model-detox");
            using var runtime = TransformerModel.Load("model", new TransformerLoadOptions { RuntimeAdapters = [new WeightedAdapter(detox.Adapter)] });
            int[] tokens = [5, 17, 42, 99, 3, 250, 7, 18, 300, 12];
            double before = PerplexityEvaluator.Evaluate(runtime, tokens).Perplexity;
            double after = PerplexityEvaluator.Evaluate(merged, tokens).Perplexity;  // equal up to rounding
            // README:high-level:end
            Assert.That(merge.TensorsTouched, Is.EqualTo(2));
            Assert.That(after, Is.EqualTo(before).Within(1e-4).Percent);
            Assert.That(File.Exists(Path.Combine("detox", "adapter_config.json")), Is.True);
        }
        finally
        {
            Environment.CurrentDirectory = previous;
        }
    }

    [TestCase(0, "// README:begin", "// README:end")]
    [TestCase(1, "// README:high-level:begin", "// README:high-level:end")]
    public void ReadmeExamples_AreTheTestedCode(int block, string beginMarker, string endMarker)
    {
        string root = RepoRoot();
        string readme = File.ReadAllText(Path.Combine(root, "README.md"));
        int start = -1;
        for (int i = 0; i <= block; i++)
        {
            start = readme.IndexOf("```csharp", start + 1, StringComparison.Ordinal);
            Assert.That(start, Is.GreaterThanOrEqualTo(0), $"README has C# example {block + 1}");
        }
        int end = readme.IndexOf("```", start + 9, StringComparison.Ordinal);
        var documented = CodeLines(readme[(start + 9)..end])
            .Where(l => !IsUsingDirective(l))
            .ToList();

        string test = File.ReadAllText(Path.Combine(root, "tests", "PeftNative.Tests", "ReadmeTests.cs"));
        int from = test.IndexOf(beginMarker, StringComparison.Ordinal) + beginMarker.Length;
        int to = test.IndexOf(endMarker, from, StringComparison.Ordinal);
        var tested = CodeLines(test[from..to]).ToList();

        Assert.That(documented, Is.EqualTo(tested), $"README.md's C# example {block + 1} and ReadmeTests differ: change both");
    }

    private static IEnumerable<string> CodeLines(string text) =>
        text.Split('\n').Select(l => l.Trim()).Where(l => l.Length > 0);

    private static bool IsUsingDirective(string line) =>
        line.StartsWith("using ", StringComparison.Ordinal) && line.EndsWith(';') && !line.Contains('=', StringComparison.Ordinal);

    private static string RepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "PeftNative.sln")))
                return dir.FullName;
        throw new DirectoryNotFoundException("PeftNative.sln not found above " + AppContext.BaseDirectory);
    }
}
