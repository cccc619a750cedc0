using PeftNative.Backends;

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
    public void ReadmeExample_IsTheTestedCode()
    {
        string root = RepoRoot();
        string readme = File.ReadAllText(Path.Combine(root, "README.md"));
        int start = readme.IndexOf("```csharp", StringComparison.Ordinal);
        Assert.That(start, Is.GreaterThanOrEqualTo(0), "README has a C# example");
        int end = readme.IndexOf("```", start + 9, StringComparison.Ordinal);
        var documented = CodeLines(readme[(start + 9)..end])
            .Where(l => !IsUsingDirective(l))
            .ToList();

        string test = File.ReadAllText(Path.Combine(root, "tests", "PeftNative.Tests", "ReadmeTests.cs"));
        int from = test.IndexOf("// README:begin", StringComparison.Ordinal) + "// README:begin".Length;
        int to = test.IndexOf("// README:end", from, StringComparison.Ordinal);
        var tested = CodeLines(test[from..to]).ToList();

        Assert.That(documented, Is.EqualTo(tested), "README.md's C# example and ReadmeTests differ: change both");
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
