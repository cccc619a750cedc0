using System.Text.Json;
using PeftNative.Cli.Commands;
using PeftNative.Tests.Cli;

namespace PeftNative.Tests.Merging;

/// <summary>`peftnative merge` and `unmerge` out of process: bad usage and bad input exit with ExitCodes.Usage / InputError, each with one line on standard error and nothing written; the happy paths print the JSON summary and the round-trip report.</summary>
[TestFixture]
public class MergeCommandTests
{
    private string _root = "";

    [SetUp]
    public void SetUp() => _root = TestModels.NewDirectory("cli");

    [TearDown]
    public void TearDown() => TestModels.Delete(_root);

    private static string Gpt2(string path) => Fixtures.ReferenceModel("gpt2-tiny/" + path);

    [TestCase(new[] { "--adapter", "A", "--out", "O" }, "--model DIR is required")]
    [TestCase(new[] { "--model", "M", "--adapter", "A" }, "--out DIR is required")]
    [TestCase(new[] { "--model", "M", "--adapter", "A", "--out", "O", "--dtype", "f8" }, "--dtype needs keep, f32, bf16 or f16")]
    [TestCase(new[] { "--model", "M", "--adapter", "A", "--out", "O", "--max-shard-size", "big" }, "--max-shard-size needs a positive size")]
    [TestCase(new[] { "--model", "M", "--adapter", "A", "--out", "O", "--threads", "0" }, "--threads needs a whole number")]
    [TestCase(new[] { "--model", "M", "--adapter", "A", "--out", "O", "--backend", "gpu9" }, "unknown backend 'gpu9'")]
    [TestCase(new[] { "--model", "M", "--adapter", "A", "--adapter", "B", "--out", "O" }, "give one --adapter DIR")]
    [TestCase(new[] { "--model", "M", "--adapter", "A", "--out", "O", "--method", "exact" }, "composition options need an expression")]
    [TestCase(new[] { "0.5*a + 0.5*b", "--model", "M", "--adapter", "a=A", "--out", "O" }, "no --adapter b=DIR is given")]
    [TestCase(new[] { "0.5*a +", "--model", "M", "--adapter", "a=A", "--out", "O" }, "bad expression")]
    [TestCase(new[] { "--model", "M", "--adapter", "A", "--out", "O", "--bogus" }, "--bogus")]
    public void BadUsage_ExitsTwoWithOneLine(string[] args, string reason) =>
        CliProcess.AssertFails(CliProcess.Run(["merge", .. args]), ExitCodes.Usage, reason);

    [Test]
    public void Unmerge_BadUsage_ExitsTwo() =>
        CliProcess.AssertFails(CliProcess.Run("unmerge", "--model", "M", "--out", "O"), ExitCodes.Usage, "give exactly one --adapter DIR");

    [Test]
    public void MissingModel_ExitsOneWithOneLine()
    {
        string output = Path.Combine(_root, "out");
        CliProcess.AssertFails(CliProcess.Run("merge", "--model", Path.Combine(_root, "nope"), "--adapter", Gpt2("adapters/lora_a"), "--out", output), ExitCodes.InputError, "model directory not found");
        Assert.That(Directory.Exists(output), Is.False);
    }

    [Test]
    public void AnAdapterForAnotherModel_ExitsOne_NamingTheModule()
    {
        string output = Path.Combine(_root, "out");
        var run = CliProcess.Run("merge", "--model", Fixtures.ReferenceModel("llama-tiny/base"), "--adapter", Gpt2("adapters/lora_a"), "--out", output);
        CliProcess.AssertFails(run, ExitCodes.InputError, "transformer.h.0.attn.c_attn");
        Assert.That(Directory.Exists(output), Is.False);
        Assert.That(TestModels.Temporaries(output), Is.Empty);
    }

    [Test]
    public void AnOutputInsideTheModel_ExitsOne()
    {
        string model = Path.Combine(_root, "model");
        Directory.CreateDirectory(model);
        foreach (string f in Directory.GetFiles(Gpt2("base")))
            File.Copy(f, Path.Combine(model, Path.GetFileName(f)));
        var before = TestModels.Hashes(model);
        CliProcess.AssertFails(CliProcess.Run("merge", "--model", model, "--adapter", Gpt2("adapters/lora_a"), "--out", Path.Combine(model, "m")), ExitCodes.InputError, "inputs are never written to");
        Assert.That(TestModels.Hashes(model), Is.EqualTo(before));
    }

    [Test]
    public void MergeComposition_Json_MatchesTheReferenceMergedModel()
    {
        string output = Path.Combine(_root, "out");
        var (code, stdout, stderr) = CliProcess.Run("merge", "0.3*a + 0.7*b", "--model", Gpt2("base"), "--adapter", "a=" + Gpt2("adapters/lora_a"),
            "--adapter", "b=" + Gpt2("adapters/lora_b"), "--out", output, "--json");
        Assert.That(code, Is.EqualTo(0), stderr);
        using var json = JsonDocument.Parse(stdout);
        var root = json.RootElement;
        Assert.That(root.GetProperty("tensors_touched").GetInt32(), Is.EqualTo(8));
        Assert.That(root.GetProperty("tensors_copied").GetInt32(), Is.EqualTo(20));
        Assert.That(root.GetProperty("bytes_read").GetInt64(), Is.GreaterThan(100_000));
        Assert.That(root.GetProperty("bytes_written").GetInt64(), Is.GreaterThan(100_000));
        Assert.That(root.GetProperty("peak_memory_bytes").GetInt64(), Is.GreaterThan(1_000_000));
        Assert.That(root.GetProperty("seconds").GetDouble(), Is.GreaterThan(0));
        ReferenceFixtureMergeTests.AssertEveryTensorClose(output, Gpt2("merged/pem_add_a0.3_b0.7"));
    }

    [Test]
    public void Unmerge_WithReference_ReportsTheRoundTrip()
    {
        string merged = Path.Combine(_root, "merged"), unmerged = Path.Combine(_root, "unmerged");
        var first = CliProcess.Run("merge", "--model", Gpt2("base"), "--adapter", Gpt2("adapters/ia3_a"), "--out", merged);
        Assert.That(first.ExitCode, Is.EqualTo(0), first.StdErr);
        var (code, stdout, stderr) = CliProcess.Run("unmerge", "--model", merged, "--adapter", Gpt2("adapters/ia3_a"), "--out", unmerged,
            "--reference", Gpt2("base"), "--json");
        Assert.That(code, Is.EqualTo(0), stderr);
        using var json = JsonDocument.Parse(stdout);
        var report = json.RootElement.GetProperty("round_trip");
        Assert.That(report.GetProperty("tensors").GetArrayLength(), Is.EqualTo(json.RootElement.GetProperty("tensors_touched").GetInt32()));
        Assert.That(report.GetProperty("max_relative_error").GetDouble(), Is.LessThan(1e-6));
        Assert.That(report.GetProperty("identical_untouched").GetInt32(), Is.EqualTo(json.RootElement.GetProperty("tensors_copied").GetInt32()));
        Assert.That(report.GetProperty("problems").GetArrayLength(), Is.Zero);
    }
}
