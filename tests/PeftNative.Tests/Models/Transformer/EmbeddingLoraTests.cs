using System.Text.Json.Nodes;
using PeftNative.Adapters;
using PeftNative.Models.Transformer;

namespace PeftNative.Tests.Models.Transformer;

/// <summary>
/// Embedding LoRA (lora_embedding_A/B on embed_tokens) and lora_bias (lora_B.bias) on a random
/// untied LLaMA, merged and at run time with a negative weight, against the float64 reference.
/// </summary>
[TestFixture]
public class EmbeddingLoraTests
{
    [Test]
    public void EmbeddingLoraAndLoraBiasMatchReference()
    {
        var spec = new RandomDecoderSpec("llama", Hidden: 24, Layers: 2, Heads: 4, KvHeads: 2, Inner: 40, Vocab: 29, DType.BF16) { Theta = 500000 };
        string dir = Directory.CreateTempSubdirectory("peftnative-embedlora-").FullName;
        try
        {
            var rng = RandomTensors.For("embedding lora");
            var reference = RandomDecoderCheckpoint.Write(dir, spec, rng);
            const int rank = 3;
            const double alpha = 5, weight = -0.8;
            double s = alpha / rank;
            var ea = RandomTensors.Create(rng, DType.F32, [rank, spec.Vocab], 0.1, 0.8);
            var eb = RandomTensors.Create(rng, DType.F32, [spec.Hidden, rank], 0.1, 0.8);
            var qa = RandomTensors.Create(rng, DType.F32, [rank, spec.Hidden], 0.05, 0.3);
            var qb = RandomTensors.Create(rng, DType.F32, [spec.Hidden, rank], 0.05, 0.5);
            var qbias = RandomTensors.Create(rng, DType.F32, [spec.Hidden], 0.1, 0.5);
            var config = AdapterConfig.FromJsonObject(new JsonObject
            {
                ["peft_type"] = "LORA", ["r"] = rank, ["lora_alpha"] = alpha, ["lora_bias"] = true,
                ["target_modules"] = new JsonArray("embed_tokens", "q_proj"), ["task_type"] = "CAUSAL_LM",
            }, "(test)");
            using var adapter = PeftAdapter.Create(config, [
                new LoraModule("model.embed_tokens", ea, eb, alpha, isEmbedding: true),
                new LoraModule("model.layers.1.self_attn.q_proj", qa, qb, alpha, bBias: qbias)]);
            reference.AddEmbeddingLora("model.embed_tokens.weight", RandomTensors.ToDoubles(ea), RandomTensors.ToDoubles(eb), rank, weight * s);
            reference.AddLora("model.layers.1.self_attn.q_proj", RandomTensors.ToDoubles(qa), RandomTensors.ToDoubles(qb), rank, weight * s);
            reference.AddBias("model.layers.1.self_attn.q_proj", RandomTensors.ToDoubles(qbias), weight * s);

            int[] tokens = [3, 28, 0, 14, 7, 7, 21, 9, 1];
            var want = reference.Logits(tokens).SelectMany(r => r).Select(x => (float)x).ToArray();
            WeightedAdapter[] stack = [new(adapter, (float)weight)];
            using var merged = TransformerModel.Load(dir, new TransformerLoadOptions { MergedAdapters = stack });
            using var runtime = TransformerModel.Load(dir, new TransformerLoadOptions { RuntimeAdapters = stack });
            using var plain = TransformerModel.Load(dir);
            LogitAssert.Relative("embedding LoRA merged", ModelRunner.Logits(merged, tokens), want, spec.Vocab, 1e-4);
            LogitAssert.Relative("embedding LoRA runtime", ModelRunner.Logits(runtime, tokens), want, spec.Vocab, 1e-4);
            Assert.That(ModelRunner.Logits(plain, tokens).Zip(want).Max(p => Math.Abs(p.First - p.Second)), Is.GreaterThan(1e-2), "the adapter must matter");
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
