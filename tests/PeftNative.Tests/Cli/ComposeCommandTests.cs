using System.Text.Json;
using PeftNative.Adapters;
using PeftNative.Composition;
using PeftNative.Composition.Diagnostics;
using PeftNative.Tests.SafeTensors;
using static PeftNative.Tests.Cli.CliProcess;

namespace PeftNative.Tests.Cli;

/// <summary>
/// <c>peftnative compose</c> out of process: usage errors (exit 2) and input errors (exit 1) with one
/// line on stderr, and — once AdapterComposer is implemented — the composition written, the summary
/// and the JSON with the diagnostics.
/// </summary>
public class ComposeCommandTests
{
    private static string GptA => Fixtures.ReferenceModel("gpt2-tiny/adapters/lora_a");

    private static string GptB => Fixtures.ReferenceModel("gpt2-tiny/adapters/lora_b");

    [TestCase("--adapter", "a", "needs NAME=DIR")]
    [TestCase("--adapter", "a=", "needs NAME=DIR")]
    [TestCase("--adapter", "=dir", "needs NAME=DIR")]
    [TestCase("--adapter", "9a=dir", "not a valid adapter name")]
    public void BadAdapterSyntax_IsUsage(string option, string value, string reason)
    {
        using var dir = new TempDir();
        AssertFails(Run("compose", "a", option, value, "--out", dir.File("out")), 2, reason);
    }

    [Test]
    public void UsageErrors_ExitTwo_WithOneLine()
    {
        using var dir = new TempDir();
        string outDir = dir.File("out");
        string a = "a=" + GptA, b = "b=" + GptB;
        using (Assert.EnterMultipleScope())
        {
            AssertFails(Run("compose", "0.5*a + 0.5*b", "--adapter", a, "--adapter", b), 2, "--out DIR is required");
            AssertFails(Run("compose", "0.5*a + 0.5*b", "--adapter", a, "--adapter", b, "--out", outDir, "--method", "average"), 2, "unknown method 'average'");
            AssertFails(Run("compose", "0.5*a + *b", "--adapter", a, "--adapter", b, "--out", outDir), 2, "position 8");
            AssertFails(Run("compose", "0.5*a + 0.5*z", "--adapter", a, "--out", outDir), 2, "'z'");
            AssertFails(Run("compose", "a", "--adapter", a, "--adapter", "a=" + GptB, "--out", outDir), 2, "given twice");
            AssertFails(Run("compose", "a", "--out", outDir), 2, "--adapter");
            AssertFails(Run("compose", "--adapter", a, "--out", outDir), 2, "usage");
            AssertFails(Run("compose", "a", "--adapter", a, "--out", outDir, "--rank", "0"), 2, "--rank");
            AssertFails(Run("compose", "a", "--adapter", a, "--out", outDir, "--density", "1.5"), 2, "--density");
            AssertFails(Run("compose", "a", "--adapter", a, "--out", outDir, "--majority-sign", "most"), 2, "--majority-sign");
            AssertFails(Run("compose", "a", "--adapter", a, "--out", outDir, "--svd-clamp", "nan"), 2, "--svd-clamp");
            AssertFails(Run("compose", "a", "--adapter", a, "--out", outDir, "--seed", "-1"), 2, "--seed");
            AssertFails(Run("compose", "a", "--adapter", a, "--out", outDir, "--frobnicate"), 2, "--frobnicate");
            Assert.That(Directory.Exists(outDir), Is.False, "nothing is written on bad usage");
        }
    }

    [Test]
    public void InputErrors_ExitOne_BeforeComposing()
    {
        using var dir = new TempDir();
        Directory.CreateDirectory(dir.File("broken"));
        File.WriteAllText(Path.Combine(dir.File("broken"), AdapterFiles.Config), "{ not json");
        Directory.CreateDirectory(dir.File("taken"));
        File.WriteAllText(Path.Combine(dir.File("taken"), AdapterFiles.Config), "{}");
        using (Assert.EnterMultipleScope())
        {
            AssertFails(Run("compose", "a", "--adapter", "a=" + dir.File("missing"), "--out", dir.File("out")), 2, "adapter 'a'");
            AssertFails(Run("compose", "a + b", "--adapter", "a=" + GptA, "--adapter", "b=" + dir.File("broken"), "--out", dir.File("out")), 2, "adapter 'b'");
            AssertFails(Run("compose", "a", "--adapter", "a=" + GptA, "--out", dir.File("taken")), 2, "--overwrite");
            AssertFails(Run("compose", "a", "--adapter", "a=" + GptA, "--out", GptA, "--overwrite"), 2, "input adapter 'a'");
        }
    }

    // ---- below: runs that compose and save ----

    [Test]
    public void Paper_WritesTheAdapter_AndWarnsAboutUnrelatedAFactors()
    {
        using var dir = new TempDir();
        string outDir = dir.File("avg");
        var (rc, stdout, stderr) = Run("compose", "0.5*a + 0.5*b", "--adapter", "a=" + GptA, "--adapter", "b=" + GptB, "--out", outDir);
        Assert.That(rc, Is.Zero, stderr);
        using var composed = PeftAdapter.Load(outDir);
        using (Assert.EnterMultipleScope())
        {
            Assert.That(composed.LoraModules, Has.Count.EqualTo(8));
            Assert.That(composed.LoraModules.Values.Select(m => m.Rank).Distinct(), Is.EqualTo(new[] { 4 }));
            Assert.That(stdout, Does.Contain("with paper into " + outDir));
            Assert.That(stdout, Does.Contain("terms as applied: 0.5*a + 0.5*b"));
            Assert.That(stdout, Does.Contain("output: LoRA, 8 modules, rank 4"));
            Assert.That(stdout, Does.Contain("paper vs exact sum"));
            Assert.That(stdout, Does.Contain("warning: adapters 'a' and 'b'").And.Contain("look unrelated"));
        }
        // again: refused without --overwrite, accepted with it
        AssertFails(Run("compose", "a", "--adapter", "a=" + GptA, "--out", outDir), 2, "--overwrite");
        Assert.That(Run("compose", "a", "--adapter", "a=" + GptA, "--out", outDir, "--overwrite").ExitCode, Is.Zero);
    }

    [Test]
    public void Json_CarriesTermsAndDiagnostics()
    {
        using var dir = new TempDir();
        var (rc, stdout, stderr) = Run("compose", "2*a + 2*b", "--adapter", "a=" + GptA, "--adapter", "b=" + GptB, "--out", dir.File("o"), "--json");
        Assert.That(rc, Is.Zero, stderr);
        using var doc = JsonDocument.Parse(stdout);
        var root = doc.RootElement;
        using var a = PeftAdapter.Load(GptA);
        using var b = PeftAdapter.Load(GptB);
        var expected = CompositionDiagnostics.Analyze([new CompositionTerm(0.5, "a"), new CompositionTerm(0.5, "b")],
            new Dictionary<string, PeftAdapter> { ["a"] = a, ["b"] = b });
        using (Assert.EnterMultipleScope())
        {
            Assert.That(root.GetProperty("method").GetString(), Is.EqualTo("paper"));
            Assert.That(root.GetProperty("terms").EnumerateArray().Select(t => t.GetProperty("coefficient").GetDouble()), Is.EqualTo(new[] { 0.5, 0.5 }), "normalised");
            Assert.That(root.GetProperty("ranks").EnumerateArray().Select(r => r.GetInt32()), Is.EqualTo(new[] { 4 }));
            var diag = root.GetProperty("diagnostics");
            Assert.That(diag.GetProperty("cross_term").GetProperty("overall").GetDouble(), Is.EqualTo(expected.OverallCrossTermError!.Value).Within(1e-12));
            Assert.That(root.GetProperty("warnings").EnumerateArray().Select(w => w.GetString()), Has.Some.Contains("look unrelated"));
        }
    }

    [Test]
    public void Exact_HasNoPaperWarnings_AndRefusedCompositionsExitOne()
    {
        using var dir = new TempDir();
        var (rc, stdout, stderr) = Run("compose", "a - 0.6*b", "--adapter", "a=" + GptA, "--adapter", "b=" + GptB, "--out", dir.File("x"), "--method", "exact");
        Assert.That(rc, Is.Zero, stderr);
        using (Assert.EnterMultipleScope())
        {
            Assert.That(stdout, Does.Contain("rank 8"));
            Assert.That(stdout, Does.Not.Contain("look unrelated"));
            Assert.That(stdout, Does.Not.Contain("paper vs exact"));
        }
        // LoRA with (IA)^3: the composer refuses
        AssertFails(Run("compose", "a + i", "--adapter", "a=" + GptA, "--adapter", "i=" + Fixtures.ReferenceModel("gpt2-tiny/adapters/ia3_a"), "--out", dir.File("y")),
            2, "composition refused");
    }
}
