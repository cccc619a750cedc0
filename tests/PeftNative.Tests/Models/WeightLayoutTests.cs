using PeftNative.Models;

namespace PeftNative.Tests.Models;

/// <summary>Which base weights are Conv1D ([in, out], fan_in_fan_out) by model type.</summary>
[TestFixture]
public class WeightLayoutTests
{
    [TestCase("gpt2", "transformer.h.0.attn.c_attn", true)]
    [TestCase("gpt2", "transformer.h.0.attn.c_proj", true)]
    [TestCase("gpt2", "transformer.h.0.mlp.c_fc", true)]
    [TestCase("gpt2", "h.11.mlp.c_proj", true)]
    [TestCase("gpt2", "lm_head", false)]
    [TestCase("gpt2", "transformer.wte", false)]
    [TestCase("llama", "model.layers.0.self_attn.q_proj", false)]
    [TestCase("llama", "model.layers.0.mlp.c_proj", false)]
    [TestCase(null, "transformer.h.0.attn.c_attn", false)]
    public void IsFanInFanOut(string? modelType, string module, bool expected) =>
        Assert.That(WeightLayout.IsFanInFanOut(modelType, module), Is.EqualTo(expected));
}
