using System.Text.Json.Nodes;
using PeftNative.Adapters;
using PeftNative.Composition;
using PeftNative.Models.Transformer;
using PeftNative.SafeTensors;

namespace PeftNative.Tests.Models.Transformer;

/// <summary>
/// Every case of shared/fixtures/reference-models/{gpt2-tiny,llama-tiny}/cases.json against the
/// logits, token log-probabilities and greedy ids that independent implementations computed
/// (picoGPT in float64, llama2.c in float32), with the adapters merged and at run time, and the
/// composition cases built by <see cref="AdapterComposer"/> ("pem" = paper method, "delta" = exact).
/// </summary>
[TestFixture]
public class ReferenceFixtureTests
{
    /// <summary>How a case is set up.</summary>
    /// <param name="Model">gpt2-tiny or llama-tiny.</param>
    /// <param name="Case">The case name in cases.json.</param>
    /// <param name="Checkpoint">base, base-bf16 or base-hubstyle.</param>
    /// <param name="Merged">Merge the adapters (else run time).</param>
    /// <param name="Adapters">"name=weight" pairs; empty for the base model.</param>
    /// <param name="Composition">"paper:EXPR" or "exact:EXPR": the adapters are composed first and the result applied with weight 1.</param>
    public sealed record FixtureCase(string Model, string Case, string Checkpoint, bool Merged, string Adapters, string? Composition = null)
    {
        public override string ToString() =>
            $"{Model} {Case} {Checkpoint} {(Merged ? "merged" : "runtime")} {Adapters} {Composition}".TrimEnd();
    }

    public static IEnumerable<FixtureCase> Cases()
    {
        yield return new("gpt2-tiny", "base", "base", false, "");
        yield return new("gpt2-tiny", "base", "base-hubstyle", false, "");
        yield return new("gpt2-tiny", "base_bf16", "base-bf16", false, "");
        yield return new("llama-tiny", "base", "base", false, "");
        yield return new("llama-tiny", "base_bf16", "base-bf16", false, "");
        foreach (bool merged in new[] { true, false })
        {
            foreach (string a in new[] { "lora_a", "lora_b", "lora_rslora_pattern", "ia3_a" })
                yield return new("gpt2-tiny", a, "base", merged, $"{a}=1");
            yield return new("gpt2-tiny", "lora_a", "base-hubstyle", merged, "lora_a=1");
            yield return new("gpt2-tiny", "lora_a_x0.5", "base", merged, "lora_a=0.5");
            yield return new("gpt2-tiny", "delta_add_a0.3_b0.7", "base", merged, "lora_a=0.3;lora_b=0.7");
            yield return new("gpt2-tiny", "delta_add_a0.3_b0.7", "base", merged, "lora_a;lora_b", "exact:0.3*lora_a + 0.7*lora_b");
            yield return new("gpt2-tiny", "pem_add_a0.3_b0.7", "base", merged, "lora_a;lora_b", "paper:0.3*lora_a + 0.7*lora_b");
            yield return new("gpt2-tiny", "pem_neg_a", "base", merged, "lora_a", "paper:-lora_a");
            yield return new("gpt2-tiny", "delta_a_minus_b", "base", merged, "lora_a=1;lora_b=-1");
            yield return new("gpt2-tiny", "delta_a_minus_b", "base", merged, "lora_a;lora_b", "exact:lora_a - lora_b");
            yield return new("gpt2-tiny", "pem_add_ia3_a0.5_b0.5", "base", merged, "ia3_a;ia3_b", "paper:0.5*ia3_a + 0.5*ia3_b");
            yield return new("gpt2-tiny", "pem_neg_ia3_a", "base", merged, "ia3_a", "paper:-ia3_a");
            yield return new("gpt2-tiny", "pem_neg_ia3_a", "base", merged, "ia3_a=-1");

            foreach (string a in new[] { "lora_qv", "lora_all_a", "lora_qv_bf16", "ia3" })
                yield return new("llama-tiny", a, "base", merged, $"{a}=1");
            yield return new("llama-tiny", "delta_add_a0.6_b0.4", "base", merged, "lora_all_a=0.6;lora_all_b=0.4");
            yield return new("llama-tiny", "delta_add_a0.6_b0.4", "base", merged, "lora_all_a;lora_all_b", "exact:0.6*lora_all_a + 0.4*lora_all_b");
            yield return new("llama-tiny", "pem_add_a0.6_b0.4", "base", merged, "lora_all_a;lora_all_b", "paper:0.6*lora_all_a + 0.4*lora_all_b");
            yield return new("llama-tiny", "pem_neg_qv", "base", merged, "lora_qv", "paper:-lora_qv");
            yield return new("llama-tiny", "lora_qv_plus_all_a", "base", merged, "lora_qv=1;lora_all_a=1");
            yield return new("llama-tiny", "pem_neg_ia3", "base", merged, "ia3", "paper:-ia3");
            yield return new("llama-tiny", "pem_neg_ia3", "base", merged, "ia3=-1");
            yield return new("llama-tiny", "pem_add_ia3_0.5_0.5", "base", merged, "ia3;ia3_b", "paper:0.5*ia3 + 0.5*ia3_b");
        }
    }

    [TestCaseSource(nameof(Cases))]
    public void MatchesReference(FixtureCase c)
    {
        string root = Fixtures.ReferenceModel(c.Model);
        var cases = JsonNode.Parse(File.ReadAllText(Path.Combine(root, "cases.json")))!;
        var info = cases["cases"]![c.Case]!;
        int[] tokens = cases["tokens"]!.AsArray().Select(n => n!.GetValue<int>()).ToArray();
        int[] prompt = cases["prompt"]!.AsArray().Select(n => n!.GetValue<int>()).ToArray();
        double atol = cases["suggested_tolerance"]!["logits_abs"]!.GetValue<double>();

        var loaded = new List<PeftAdapter>();
        CompositionResult? composed = null;
        try
        {
            var weighted = new List<WeightedAdapter>();
            foreach (string item in c.Adapters.Split(';', StringSplitOptions.RemoveEmptyEntries))
            {
                string[] parts = item.Split('=');
                var adapter = PeftAdapter.Load(Path.Combine(root, "adapters", parts[0]));
                loaded.Add(adapter);
                if (parts.Length == 2)
                    weighted.Add(new WeightedAdapter(adapter, float.Parse(parts[1], System.Globalization.CultureInfo.InvariantCulture)));
            }
            if (c.Composition is { } comp)
            {
                string[] parts = comp.Split(':', 2);
                var method = parts[0] == "paper" ? CompositionMethod.Paper : CompositionMethod.Exact;
                var byName = loaded.ToDictionary(a => Path.GetFileName(a.DirectoryPath!)!);
                composed = AdapterComposer.Compose(ModuleExpression.Parse(parts[1]), byName, new CompositionOptions { Method = method });
                weighted.Add(new WeightedAdapter(composed.Adapter));
            }
            var options = c.Merged ? new TransformerLoadOptions { MergedAdapters = weighted } : new TransformerLoadOptions { RuntimeAdapters = weighted };
            using var model = TransformerModel.Load(Path.Combine(root, c.Checkpoint), options);
            using var expected = SafetensorsFile.Open(Path.Combine(root, "expected.safetensors"));
            int v = model.VocabularySize;

            float[] logits = ModelRunner.Logits(model, tokens);
            var want = expected.GetTensor($"{c.Case}/logits");
            Assert.That(want.ElementCount, Is.EqualTo(logits.Length), "expected logits shape");
            var wantLogits = RandomTensors.ToDoubles(want);
            LogitAssert.Absolute($"{c} logits", logits, i => wantLogits[i], v, atol);

            var wantLp = RandomTensors.ToDoubles(expected.GetTensor($"{c.Case}/token_logprobs"));
            var lp = LogitAssert.TokenLogProbs(logits, tokens, v);
            var lpFloats = lp.Select(x => (float)x).ToArray();
            LogitAssert.Absolute($"{c} token_logprobs", lpFloats, i => wantLp[i], lp.Length, 2 * atol);

            int safe = info["greedy_safe_prefix"]!.GetValue<int>();
            int count = cases["greedy_new_tokens"]!.GetValue<int>();
            var wantGreedy = expected.GetTensor($"{c.Case}/greedy").AsSpan<long>().ToArray();
            int[] greedy = ModelRunner.Greedy(model, prompt, count);
            Assert.That(greedy.Take(safe), Is.EqualTo(wantGreedy.Take(safe).Select(x => (int)x)), $"{c}: greedy ids (first {safe} are safe)");
        }
        finally
        {
            composed?.Dispose();
            foreach (var a in loaded)
                a.Dispose();
        }
    }
}
