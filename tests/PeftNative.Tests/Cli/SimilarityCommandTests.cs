using System.Text.Json;
using PeftNative.Adapters;
using PeftNative.Composition.Diagnostics;
using PeftNative.Tests.SafeTensors;
using static PeftNative.Tests.Cli.CliProcess;

namespace PeftNative.Tests.Cli;

/// <summary><c>peftnative similarity</c> out of process: the same figures as the library, and clear exit codes.</summary>
public class SimilarityCommandTests
{
    [Test]
    public void Json_MatchesTheLibrary_AndTextShowsTheMatrix()
    {
        string x = Fixtures.RealAdapter("smollm135m-medical-lora-5ep"), y = Fixtures.RealAdapter("smollm135m-medical-lora-100ep");
        var (rc, stdout, stderr) = Run("similarity", "--adapter", "e5=" + x, "--adapter", "e100=" + y, "--json", "--per-module");
        Assert.That(rc, Is.Zero, stderr);
        using var a = PeftAdapter.Load(x);
        using var b = PeftAdapter.Load(y);
        var expected = AdapterSimilarity.Compute(new Dictionary<string, PeftAdapter> { ["e5"] = a, ["e100"] = b });
        using var doc = JsonDocument.Parse(stdout);
        var root = doc.RootElement;
        using (Assert.EnterMultipleScope())
        {
            Assert.That(root.GetProperty("adapters").EnumerateArray().Select(e => e.GetString()), Is.EqualTo(new[] { "e5", "e100" }));
            Assert.That(root.GetProperty("cosines")[0][1].GetDouble(), Is.EqualTo(expected.Cosine("e5", "e100")));
            Assert.That(root.GetProperty("norms")[1].GetDouble(), Is.EqualTo(expected.Norms[1]));
            Assert.That(root.GetProperty("modules").GetArrayLength(), Is.EqualTo(60));
        }

        (rc, stdout, stderr) = Run("similarity", "--adapter", "e5=" + x, "--adapter", "e100=" + y);
        Assert.That(rc, Is.Zero, stderr);
        Assert.That(stdout, Does.Contain("e100").And.Contain(expected.Cosine("e5", "e100")!.Value.ToString("F4", System.Globalization.CultureInfo.InvariantCulture)));
        Assert.That(stdout, Does.Not.Contain("per module"));
        (rc, stdout, _) = Run("similarity", "--adapter", "e5=" + x, "--adapter", "e100=" + y, "--per-module");
        Assert.That(stdout, Does.Contain("model.layers.29.self_attn.v_proj"));
    }

    [Test]
    public void Errors_HaveClearExitCodes()
    {
        using var dir = new TempDir();
        string lora = Fixtures.ReferenceModel("gpt2-tiny/adapters/lora_a");
        using (Assert.EnterMultipleScope())
        {
            AssertFails(Run("similarity"), 2, "--adapter");
            AssertFails(Run("similarity", "--adapter", "a=" + lora, "--adapter", "a=" + lora), 2, "given twice");
            AssertFails(Run("similarity", "--adapter", lora), 2, "NAME=DIR");
            AssertFails(Run("similarity", "--adapter", "a=" + lora, "extra"), 2, "extra");
            AssertFails(Run("similarity", "--adapter", "a=" + dir.File("none")), 2, "adapter 'a'");
            AssertFails(Run("similarity", "--adapter", "a=" + lora, "--adapter", "i=" + Fixtures.ReferenceModel("gpt2-tiny/adapters/ia3_a")), 2, "(IA)^3");
        }
    }
}
