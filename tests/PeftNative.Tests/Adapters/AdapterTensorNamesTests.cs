using PeftNative.Adapters;

namespace PeftNative.Tests.Adapters;

/// <summary>PEFT's saved tensor names taken apart and put back together.</summary>
[TestFixture]
public class AdapterTensorNamesTests
{
    [TestCase("base_model.model.transformer.h.0.attn.c_attn.lora_A.weight", "transformer.h.0.attn.c_attn", AdapterTensorKind.LoraA, null)]
    [TestCase("base_model.model.model.layers.0.self_attn.q_proj.lora_B.weight", "model.layers.0.self_attn.q_proj", AdapterTensorKind.LoraB, null)]
    [TestCase("base_model.model.model.layers.0.self_attn.q_proj.lora_B.bias", "model.layers.0.self_attn.q_proj", AdapterTensorKind.LoraBBias, null)]
    [TestCase("base_model.model.model.embed_tokens.lora_embedding_A", "model.embed_tokens", AdapterTensorKind.LoraEmbeddingA, null)]
    [TestCase("base_model.model.model.embed_tokens.lora_embedding_B", "model.embed_tokens", AdapterTensorKind.LoraEmbeddingB, null)]
    [TestCase("base_model.model.model.layers.1.mlp.down_proj.ia3_l", "model.layers.1.mlp.down_proj", AdapterTensorKind.Ia3Vector, null)]
    [TestCase("base_model.model.model.layers.1.self_attn.q_proj.lora_magnitude_vector", "model.layers.1.self_attn.q_proj", AdapterTensorKind.DoraMagnitude, null)]
    [TestCase("base_model.model.model.layers.0.self_attn.q_proj.lora_A.default.weight", "model.layers.0.self_attn.q_proj", AdapterTensorKind.LoraA, "default")]
    [TestCase("base_model.model.model.embed_tokens.lora_embedding_B.task1", "model.embed_tokens", AdapterTensorKind.LoraEmbeddingB, "task1")]
    [TestCase("base_model.model.h.0.ia3_l.other", "h.0", AdapterTensorKind.Ia3Vector, "other")]
    [TestCase("model.layers.0.self_attn.q_proj.lora_A.weight", "model.layers.0.self_attn.q_proj", AdapterTensorKind.LoraA, null)]
    [TestCase("base_model.model.score.weight", "score", AdapterTensorKind.Other, null)]
    [TestCase("base_model.model.transformer.h.0.attn.c_attn.bias", "transformer.h.0.attn.c_attn", AdapterTensorKind.Other, null)]
    [TestCase("lora_A.weight", "lora_A", AdapterTensorKind.Other, null)]
    public void Parse(string name, string module, AdapterTensorKind kind, string? adapter)
    {
        var key = AdapterTensorNames.Parse(name);
        Assert.That(key.ModulePath, Is.EqualTo(module));
        Assert.That(key.Kind, Is.EqualTo(kind));
        Assert.That(key.AdapterName, Is.EqualTo(adapter));
        Assert.That(key.Name, Is.EqualTo(name));
    }

    [Test]
    public void Format_IsPeftSavedForm_AndParsesBack()
    {
        foreach (var kind in new[] { AdapterTensorKind.LoraA, AdapterTensorKind.LoraB, AdapterTensorKind.LoraBBias, AdapterTensorKind.LoraEmbeddingA,
                     AdapterTensorKind.LoraEmbeddingB, AdapterTensorKind.Ia3Vector })
        {
            string name = AdapterTensorNames.Format("model.layers.0.self_attn.q_proj", kind);
            Assert.That(name, Does.StartWith("base_model.model.model.layers.0.self_attn.q_proj."));
            var key = AdapterTensorNames.Parse(name);
            Assert.That((key.ModulePath, key.Kind, key.AdapterName), Is.EqualTo(("model.layers.0.self_attn.q_proj", kind, (string?)null)));
        }
        Assert.That(AdapterTensorNames.Format("transformer.h.0.attn.c_attn", AdapterTensorKind.LoraA),
            Is.EqualTo("base_model.model.transformer.h.0.attn.c_attn.lora_A.weight"));
        Assert.That(AdapterTensorNames.Format("model.embed_tokens", AdapterTensorKind.LoraEmbeddingA),
            Is.EqualTo("base_model.model.model.embed_tokens.lora_embedding_A"));
        Assert.Throws<ArgumentException>(() => AdapterTensorNames.Format("x", AdapterTensorKind.Other));
    }
}
