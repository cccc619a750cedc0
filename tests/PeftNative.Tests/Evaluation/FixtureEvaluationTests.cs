using System.Globalization;
using System.Text.Json;
using PeftNative.Adapters;
using PeftNative.Evaluation;
using PeftNative.Models.Tokenization;
using PeftNative.Models.Transformer;
using PeftNative.SafeTensors;
using PeftNative.Tests.SafeTensors;
using static PeftNative.Tests.Cli.CliProcess;

namespace PeftNative.Tests.Evaluation;

/// <summary>
/// Evaluation on the real tiny GPT-2 and LLaMA checkpoints against what independent reference
/// implementations computed (reference-models/*/cases.json and expected.safetensors): token
/// log-probabilities, perplexity and greedy ids, for the base model and adapter cases, merged and
/// at run time, through the library and through the CLI. These need the forward pass
/// (TransformerModel.Load).
/// </summary>
public class FixtureEvaluationTests
{
    /// <summary>The references' logits agree to 1e-3; a log-probability then to about twice that.</summary>
    private const double LogProbTolerance = 2e-3;

    private sealed record Case(string Model, string Name, int[] Tokens, int[] Prompt, int GreedyNewTokens, double LogLik, double Perplexity,
        int[] Greedy, int GreedySafePrefix, double[] TokenLogProbs);

    private static Case Load(string model, string name)
    {
        string dir = Fixtures.ReferenceModel(model);
        using var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(dir, "cases.json")));
        var root = doc.RootElement;
        var c = root.GetProperty("cases").GetProperty(name);
        using var expected = SafetensorsFile.Open(Path.Combine(dir, "expected.safetensors"));
        using var lp = expected.GetTensor($"{name}/token_logprobs");
        return new Case(model, name,
            root.GetProperty("tokens").EnumerateArray().Select(e => e.GetInt32()).ToArray(),
            root.GetProperty("prompt").EnumerateArray().Select(e => e.GetInt32()).ToArray(),
            root.GetProperty("greedy_new_tokens").GetInt32(),
            c.GetProperty("loglik").GetDouble(), c.GetProperty("perplexity").GetDouble(),
            c.GetProperty("greedy").EnumerateArray().Select(e => e.GetInt32()).ToArray(),
            c.GetProperty("greedy_safe_prefix").GetInt32(),
            lp.AsSpan<float>().ToArray().Select(x => (double)x).ToArray());
    }

    private static void AssertPerplexity(PerplexityResult result, Case expected)
    {
        using (Assert.EnterMultipleScope())
        {
            Assert.That(result.ScoredTokens, Is.EqualTo(expected.Tokens.Length - 1));
            Assert.That(result.TokenLogProbs, Is.EqualTo(expected.TokenLogProbs).Within(LogProbTolerance), $"{expected.Model} {expected.Name}");
            Assert.That(result.LogLikelihood, Is.EqualTo(expected.LogLik).Within(LogProbTolerance * expected.Tokens.Length));
            Assert.That(result.Perplexity, Is.EqualTo(expected.Perplexity).Within(LogProbTolerance * 100).Percent);
        }
    }

    private static void AssertGreedy(GenerationResult result, Case expected)
    {
        int n = expected.GreedySafePrefix;
        Assert.That(result.Tokens.Take(n), Is.EqualTo(expected.Greedy.Take(n)), $"{expected.Model} {expected.Name}: greedy ids (safe prefix {n})");
    }

    [TestCase("gpt2-tiny")]
    [TestCase("llama-tiny")]
    public void Base_Perplexity_TokenLogProbs_AndGreedy(string model)
    {
        var c = Load(model, "base");
        using var m = TransformerModel.Load(Fixtures.ReferenceModel($"{model}/base"));
        AssertPerplexity(PerplexityEvaluator.Evaluate(m, c.Tokens), c);
        // no stop tokens: the references generate a fixed number (LLaMA's EOS id 2 appears in some)
        AssertGreedy(GreedyGenerator.Generate(m, c.Prompt, c.GreedyNewTokens), c);
    }

    [TestCase("gpt2-tiny", "lora_a", "lora_a", false)]
    [TestCase("gpt2-tiny", "lora_a", "lora_a", true)]
    [TestCase("gpt2-tiny", "ia3_a", "ia3_a", true)]
    [TestCase("llama-tiny", "lora_qv", "lora_qv", false)]
    [TestCase("llama-tiny", "lora_qv", "lora_qv", true)]
    [TestCase("llama-tiny", "ia3", "ia3", false)]
    public void Adapter_MergedOrAtRunTime(string model, string caseName, string adapter, bool runtime)
    {
        var c = Load(model, caseName);
        using var a = PeftAdapter.Load(Fixtures.ReferenceModel($"{model}/adapters/{adapter}"));
        var options = runtime ? new TransformerLoadOptions { RuntimeAdapters = [new(a)] } : new TransformerLoadOptions { MergedAdapters = [new(a)] };
        using var m = TransformerModel.Load(Fixtures.ReferenceModel($"{model}/base"), options);
        AssertPerplexity(PerplexityEvaluator.Evaluate(m, c.Tokens), c);
        AssertGreedy(GreedyGenerator.Generate(m, c.Prompt, c.GreedyNewTokens), c);
    }

    [Test]
    public void Scoring_AgreesWithTheTokenLogProbs()
    {
        // Scoring the tail of the sequence as one choice gives the fixture's log-probabilities of those tokens.
        var c = Load("llama-tiny", "base");
        using var m = TransformerModel.Load(Fixtures.ReferenceModel("llama-tiny/base"));
        int p = c.Prompt.Length;
        var result = ChoiceScorer.Score(m, c.Tokens.AsSpan(0, p), [c.Tokens[p..], c.Tokens[p..(p + 2)]]);
        Assert.That(result.Choices[0].TokenLogProbs, Is.EqualTo(c.TokenLogProbs[(p - 1)..]).Within(LogProbTolerance));
        Assert.That(result.Choices[1].Sum, Is.EqualTo(c.TokenLogProbs[p - 1] + c.TokenLogProbs[p]).Within(2 * LogProbTolerance));
    }

    [TestCase("gpt2-tiny", "base", new string[0])]
    [TestCase("gpt2-tiny", "lora_b", new[] { "--adapter", "{adapters}/lora_b" })]
    [TestCase("gpt2-tiny", "lora_b", new[] { "--adapter", "{adapters}/lora_b", "--runtime" })]
    [TestCase("gpt2-tiny", "pem_add_a0.3_b0.7", new[] { "0.3*a + 0.7*b", "--adapter", "a={adapters}/lora_a", "--adapter", "b={adapters}/lora_b" })]
    [TestCase("llama-tiny", "pem_neg_qv", new[] { "-q", "--adapter", "q={adapters}/lora_qv", "--runtime" })]
    [TestCase("llama-tiny", "base", new string[0])]
    public void Cli_EvalTokensJson(string model, string caseName, string[] adapterArgs)
    {
        var c = Load(model, caseName);
        string adapters = Fixtures.ReferenceModel($"{model}/adapters");
        var args = new List<string> { "eval", "--model", Fixtures.ReferenceModel($"{model}/base") };
        args.AddRange(adapterArgs.Select(a => a.Replace("{adapters}", adapters, StringComparison.Ordinal)));
        args.AddRange(["--tokens", string.Join(",", c.Tokens), "--json"]);
        var (rc, stdout, stderr) = Run([.. args]);
        Assert.That(rc, Is.Zero, stderr);
        using var doc = JsonDocument.Parse(stdout);
        var root = doc.RootElement;
        using (Assert.EnterMultipleScope())
        {
            Assert.That(root.GetProperty("tokens").EnumerateArray().Select(e => e.GetInt32()), Is.EqualTo(c.Tokens));
            Assert.That(root.GetProperty("token_logprobs").EnumerateArray().Select(e => e.GetDouble()), Is.EqualTo(c.TokenLogProbs).Within(LogProbTolerance));
            Assert.That(root.GetProperty("perplexity").GetDouble(), Is.EqualTo(c.Perplexity).Within(LogProbTolerance * 100).Percent);
        }
    }

    [Test]
    public void Cli_Generate_AndTextModeWithATokenizer()
    {
        var c = Load("gpt2-tiny", "base");
        string baseDir = Fixtures.ReferenceModel("gpt2-tiny/base");
        var (rc, stdout, stderr) = Run("generate", "--model", baseDir, "--prompt-tokens", string.Join(",", c.Prompt),
            "--max-new-tokens", c.GreedyNewTokens.ToString(CultureInfo.InvariantCulture), "--ignore-eos", "--json");
        Assert.That(rc, Is.Zero, stderr);
        using (var doc = JsonDocument.Parse(stdout))
        {
            var ids = doc.RootElement.GetProperty("tokens").EnumerateArray().Select(e => e.GetInt32()).ToArray();
            Assert.That(ids.Take(c.GreedySafePrefix), Is.EqualTo(c.Greedy.Take(c.GreedySafePrefix)));
        }

        // The tiny model with a byte-level BPE of its own: a-z, space-prefixed letters, a few merges.
        using var dir = new TempDir();
        foreach (string f in (string[])["config.json", "model.safetensors"])
            File.Copy(Path.Combine(baseDir, f), dir.File(f));
        var vocab = new Dictionary<string, int>();
        for (char ch = 'a'; ch <= 'z'; ch++)
        {
            vocab[ch.ToString()] = vocab.Count;
            vocab["\u0120" + ch] = vocab.Count;
        }
        vocab["\u0120"] = vocab.Count;
        vocab["th"] = vocab.Count;
        vocab["\u0120th"] = vocab.Count;
        File.WriteAllText(dir.File("vocab.json"), JsonSerializer.Serialize(vocab));
        File.WriteAllText(dir.File("merges.txt"), "#version: 0.2\n" + string.Concat(Enumerable.Range('a', 26).Select(x => $"\u0120 {(char)x}\n")) + "t h\n\u0120 th\n");
        File.WriteAllText(dir.File("text.txt"), "the cat sat on the mat with a hat");
        var tokens = TextTokenizer.Load(dir.Path).Encode(File.ReadAllText(dir.File("text.txt")));
        Assert.That(tokens, Has.All.LessThan(96));
        var fromText = Run("eval", "--model", dir.Path, "--text", dir.File("text.txt"), "--json");
        var fromTokens = Run("eval", "--model", dir.Path, "--tokens", string.Join(",", tokens), "--json");
        Assert.That(fromText.ExitCode, Is.Zero, fromText.StdErr);
        Assert.That(fromText.StdOut, Is.EqualTo(fromTokens.StdOut));

        var score = Run("score", "--model", dir.Path, "--prompt", "the cat sat on the", "--choices", " mat| hat| th", "--json");
        Assert.That(score.ExitCode, Is.Zero, score.StdErr);
        using var scoreDoc = JsonDocument.Parse(score.StdOut);
        Assert.That(scoreDoc.RootElement.GetProperty("choices").GetArrayLength(), Is.EqualTo(3));
        var gen = Run("generate", "--model", dir.Path, "--prompt", "the cat", "--max-new-tokens", "5", "--ignore-eos");
        Assert.That(gen.ExitCode, Is.Zero, gen.StdErr);
        Assert.That(gen.StdOut, Does.StartWith("the cat"));
    }
}
