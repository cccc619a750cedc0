using System.Text.Json.Nodes;
using PeftNative.Adapters;
using PeftNative.Models;
using PeftNative.Models.Transformer;

namespace PeftNative.Tests.Models.Transformer;

/// <summary>Config settings read as transformers reads them: sliding windows per layer, defaults, refusals.</summary>
[TestFixture]
public class ArchitectureSpecTests
{
    private static ArchitectureSpec Spec(string type, Action<JsonObject>? edit = null)
    {
        var c = new JsonObject
        {
            ["model_type"] = type, ["hidden_size"] = 16, ["num_hidden_layers"] = 4, ["num_attention_heads"] = 2,
            ["num_key_value_heads"] = 1, ["intermediate_size"] = 24, ["max_position_embeddings"] = 64, ["vocab_size"] = 10,
        };
        edit?.Invoke(c);
        return ArchitectureSpec.From(ModelConfig.FromJsonObject(c, "/m/config.json"));
    }

    [Test]
    public void SlidingWindows()
    {
        Assert.That(Spec("mistral").SlidingWindow, Is.EqualTo(new[] { 4096, 4096, 4096, 4096 }), "MistralConfig default");
        Assert.That(Spec("mistral", c => c["sliding_window"] = null).SlidingWindow, Is.EqualTo(new[] { 0, 0, 0, 0 }));
        Assert.That(Spec("mistral", c => c["sliding_window"] = 7).SlidingWindow, Is.EqualTo(new[] { 7, 7, 7, 7 }));
        Assert.That(Spec("qwen2", c => c["sliding_window"] = 7).SlidingWindow, Is.EqualTo(new[] { 0, 0, 0, 0 }), "use_sliding_window defaults to false");
        Assert.That(Spec("qwen2", c => { c["sliding_window"] = 7; c["use_sliding_window"] = true; c["max_window_layers"] = 2; }).SlidingWindow,
            Is.EqualTo(new[] { 0, 0, 7, 7 }));
        Assert.That(Spec("qwen2", c => { c["sliding_window"] = 7; c["layer_types"] = new JsonArray("sliding_attention", "full_attention", "sliding_attention", "full_attention"); }).SlidingWindow,
            Is.EqualTo(new[] { 7, 0, 7, 0 }));
        Assert.That(Spec("llama", c => c["sliding_window"] = 7).SlidingWindow, Is.EqualTo(new[] { 0, 0, 0, 0 }));
    }

    [Test]
    public void DefaultsAndBiases()
    {
        var qwen = Spec("qwen2");
        Assert.That((qwen.QkvBias, qwen.OutputProjectionBias, qwen.MlpBias, qwen.RopeTheta, qwen.HeadDim), Is.EqualTo((true, false, false, 10000.0, 8)));
        var llama = Spec("llama", c => { c["attention_bias"] = true; c["head_dim"] = 12; c["rope_theta"] = 500000.0; });
        Assert.That((llama.QkvBias, llama.OutputProjectionBias, llama.HeadDim, llama.RopeTheta), Is.EqualTo((true, true, 12, 500000.0)));
    }

    [TestCase("rope_scaling", """{"rope_type": "llama3", "factor": 8.0}""")]
    [TestCase("partial_rotary_factor", "0.5")]
    [TestCase("hidden_act", "\"gelu\"")]
    [TestCase("num_key_value_heads", "3")]
    public void Refused(string key, string json)
    {
        var e = Assert.Throws<AdapterFormatException>(() => Spec("llama", c => c[key] = JsonNode.Parse(json)))!;
        Assert.That(e.Message, Does.Contain("/m/config.json").And.Contain(key));
    }
}
