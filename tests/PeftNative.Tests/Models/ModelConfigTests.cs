using PeftNative.Adapters;
using PeftNative.Models;

namespace PeftNative.Tests.Models;

/// <summary>config.json of the reference models read with both naming schemes and transformers' defaults.</summary>
[TestFixture]
public class ModelConfigTests
{
    [TestCase("gpt2-tiny/base", DType.F32)]
    [TestCase("gpt2-tiny/base-hubstyle", DType.F32)]
    [TestCase("gpt2-tiny/base-bf16", DType.BF16)]
    public void Gpt2Tiny(string dir, DType dtype)
    {
        var c = ModelConfig.Load(Path.Combine(Fixtures.ReferenceModel(dir), ModelConfig.FileName));
        Assert.That(c.ModelType, Is.EqualTo("gpt2"));
        Assert.That(c.Architectures, Is.EqualTo(new[] { "GPT2LMHeadModel" }));
        Assert.That((c.HiddenSize, c.NumHiddenLayers, c.NumAttentionHeads, c.NumKeyValueHeads, c.HeadDim), Is.EqualTo(((int?)32, (int?)2, (int?)4, (int?)4, (int?)8)));
        Assert.That(c.IntermediateSize, Is.EqualTo(128), "n_inner null means 4 * n_embd");
        Assert.That((c.VocabSize, c.MaxPositionEmbeddings), Is.EqualTo(((int?)96, (int?)64)));
        Assert.That(c.WeightsDType, Is.EqualTo(dtype));
        Assert.That(c.TieWordEmbeddings, Is.True);
        Assert.That(c.LayerNormEpsilon, Is.EqualTo(1e-5));
        Assert.That(c.RmsNormEps, Is.Null);
        Assert.That(c.RopeTheta, Is.Null);
        Assert.That(c.UsesConv1D, Is.True);
        Assert.That(c.GetRaw("activation_function")!.GetValue<string>(), Is.EqualTo("gelu_new"));
    }

    [TestCase("llama-tiny/base", DType.F32)]
    [TestCase("llama-tiny/base-bf16", DType.BF16)]
    public void LlamaTiny(string dir, DType dtype)
    {
        var c = ModelConfig.Load(Path.Combine(Fixtures.ReferenceModel(dir), ModelConfig.FileName));
        Assert.That(c.ModelType, Is.EqualTo("llama"));
        Assert.That((c.HiddenSize, c.NumHiddenLayers, c.NumAttentionHeads, c.NumKeyValueHeads, c.HeadDim), Is.EqualTo(((int?)48, (int?)2, (int?)4, (int?)2, (int?)12)));
        Assert.That((c.IntermediateSize, c.VocabSize, c.MaxPositionEmbeddings), Is.EqualTo(((int?)112, (int?)80, (int?)64)));
        Assert.That(c.WeightsDType, Is.EqualTo(dtype));
        Assert.That(c.TieWordEmbeddings, Is.False);
        Assert.That(c.RopeTheta, Is.EqualTo(10000.0));
        Assert.That(c.RmsNormEps, Is.EqualTo(1e-5));
        Assert.That(c.UsesConv1D, Is.False);
    }

    [Test]
    public void RoundTrip_TransformersLayout()
    {
        string path = Path.Combine(Fixtures.ReferenceModel("llama-tiny/base"), ModelConfig.FileName);
        string text = File.ReadAllText(path);
        var c = ModelConfig.Parse(text, path);
        // transformers appends a newline; these fixtures were written without it.
        Assert.That(c.ToJson(), Is.EqualTo(text.TrimEnd('\n') + "\n"));
        Assert.That(c.Keys, Does.Contain("rope_scaling").And.Contain("pretraining_tp"));
    }

    [Test]
    public void Defaults_WhenFieldsAbsent()
    {
        var gpt2 = ModelConfig.Parse("""{"model_type": "gpt2", "n_embd": 768, "n_head": 12}""", "c");
        Assert.That(gpt2.TieWordEmbeddings, Is.True);
        Assert.That(gpt2.IntermediateSize, Is.EqualTo(3072));
        var llama = ModelConfig.Parse("""{"model_type": "llama", "hidden_size": 64, "num_attention_heads": 8, "dtype": "float16"}""", "c");
        Assert.That(llama.TieWordEmbeddings, Is.False);
        Assert.That(llama.NumKeyValueHeads, Is.EqualTo(8));
        Assert.That(llama.RopeTheta, Is.EqualTo(10000.0));
        Assert.That(llama.WeightsDType, Is.EqualTo(DType.F16), "newer transformers write dtype instead of torch_dtype");
        var nested = ModelConfig.Parse("""{"model_type": "llama", "rope_parameters": {"rope_theta": 500000.0, "rope_type": "default"}}""", "c");
        Assert.That(nested.RopeTheta, Is.EqualTo(500000.0));
    }

    [TestCase("""{"model_type": 3}""", "model_type")]
    [TestCase("""{"hidden_size": "48"}""", "hidden_size")]
    [TestCase("""{"n_layer": 0}""", "n_layer")]
    [TestCase("""{"num_attention_heads": 4.5}""", "num_attention_heads")]
    [TestCase("""{"tie_word_embeddings": "yes"}""", "tie_word_embeddings")]
    [TestCase("""{"rope_theta": -1}""", "rope_theta")]
    [TestCase("""{"torch_dtype": 16}""", "torch_dtype")]
    [TestCase("""{"architectures": "Llama"}""", "architectures")]
    [TestCase("""{"rope_parameters": {"rope_theta": "x"}}""", "rope_parameters.rope_theta")]
    [TestCase("[]", null)]
    [TestCase("{", null)]
    public void Hostile(string json, string? key)
    {
        var e = Assert.Throws<AdapterFormatException>(() => ModelConfig.Parse(json, "/m/config.json"))!;
        Assert.That(e.Key, Is.EqualTo(key));
        Assert.That(e.Message, Does.StartWith("/m/config.json:"));
    }
}
