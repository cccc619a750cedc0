using PeftNative.Adapters;
using PeftNative.Models.Transformer;

namespace PeftNative.Tests.Models.Transformer;

/// <summary>
/// The fixture adapters merged into W and applied at run time give the same logits (1e-4 of the
/// logits' scale, f32) on both architectures, one adapter and stacks of weighted ones with negative
/// weights; and KV-cache decoding of the fixture models equals full recomputation.
/// </summary>
[TestFixture]
public class MergedRuntimeAgreementTests
{
    private static readonly int[] Tokens = [5, 17, 3, 44, 29, 8, 61, 12, 2, 33, 40, 7, 19];

    [TestCase("gpt2-tiny", "lora_a=1")]
    [TestCase("gpt2-tiny", "ia3_a=1")]
    [TestCase("gpt2-tiny", "lora_rslora_pattern=1")]
    [TestCase("gpt2-tiny", "lora_a=0.8;lora_b=-0.5;ia3_a=-0.7;ia3_b=1.3")]
    [TestCase("llama-tiny", "lora_all_a=1")]
    [TestCase("llama-tiny", "ia3=1")]
    [TestCase("llama-tiny", "lora_qv_bf16=1")]
    [TestCase("llama-tiny", "lora_all_a=1.5;lora_qv=-0.6;ia3=-0.4;lora_all_b=-1;ia3_b=0.9")]
    public void MergedEqualsRuntime(string model, string adapters)
    {
        string root = Fixtures.ReferenceModel(model);
        var loaded = adapters.Split(';').Select(item => item.Split('='))
            .Select(p => (Adapter: PeftAdapter.Load(Path.Combine(root, "adapters", p[0])), Weight: float.Parse(p[1], System.Globalization.CultureInfo.InvariantCulture)))
            .ToList();
        try
        {
            var stack = loaded.Select(x => new WeightedAdapter(x.Adapter, x.Weight)).ToArray();
            using var merged = TransformerModel.Load(Path.Combine(root, "base"), new TransformerLoadOptions { MergedAdapters = stack });
            using var runtime = TransformerModel.Load(Path.Combine(root, "base"), new TransformerLoadOptions { RuntimeAdapters = stack });
            using var plain = TransformerModel.Load(Path.Combine(root, "base"));
            float[] m = ModelRunner.Logits(merged, Tokens);
            float[] r = ModelRunner.Logits(runtime, Tokens);
            LogitAssert.Relative($"{model} {adapters}: runtime vs merged", r, m, merged.VocabularySize, 1e-4);
            double change = m.Zip(ModelRunner.Logits(plain, Tokens)).Max(p => Math.Abs(p.First - p.Second));
            Assert.That(change, Is.GreaterThan(1e-2), "the adapters must change the logits, or this test proves nothing");
        }
        finally
        {
            foreach (var (a, _) in loaded)
                a.Dispose();
        }
    }

    [TestCase("gpt2-tiny", "base")]
    [TestCase("gpt2-tiny", "base-bf16")]
    [TestCase("llama-tiny", "base")]
    public void CacheDecodingEqualsFullRecomputation(string model, string checkpoint)
    {
        using var m = TransformerModel.Load(Path.Combine(Fixtures.ReferenceModel(model), checkpoint));
        CacheChecks.Run($"{model}/{checkpoint}", m, Tokens.Concat(Tokens.Reverse()).ToArray());
    }

    [Test]
    public void RuntimeAdaptersWithCacheEqualFullRecomputation()
    {
        string root = Fixtures.ReferenceModel("llama-tiny");
        using var lora = PeftAdapter.Load(Path.Combine(root, "adapters", "lora_all_a"));
        using var ia3 = PeftAdapter.Load(Path.Combine(root, "adapters", "ia3"));
        using var m = TransformerModel.Load(Path.Combine(root, "base"), new TransformerLoadOptions { RuntimeAdapters = [new(lora, -0.8f), new(ia3, 1.2f)] });
        CacheChecks.Run("llama-tiny runtime adapters", m, Tokens);
    }
}
