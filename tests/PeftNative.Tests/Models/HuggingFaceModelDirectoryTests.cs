using PeftNative.Adapters;
using PeftNative.Models;

namespace PeftNative.Tests.Models;

/// <summary>
/// The reference base models open with their config, weights and dtype, and every adapter module
/// resolves to a base weight whose shape fits the adapter (W [out, in] for Linear, [in, out] for
/// GPT-2 Conv1D), in the prefixed and the hub-style GPT-2 checkpoints alike.
/// </summary>
[TestFixture]
public class HuggingFaceModelDirectoryTests
{
    [TestCase("gpt2-tiny/base", "gpt2", DType.F32, 28)]
    [TestCase("gpt2-tiny/base-hubstyle", "gpt2", DType.F32, 28)]
    [TestCase("gpt2-tiny/base-bf16", "gpt2", DType.BF16, 28)]
    [TestCase("llama-tiny/base", "llama", DType.F32, 21)]
    [TestCase("llama-tiny/base-bf16", "llama", DType.BF16, 21)]
    public void Opens(string dir, string modelType, DType dtype, int tensors)
    {
        using var model = HuggingFaceModelDirectory.Open(Fixtures.ReferenceModel(dir));
        Assert.That(model.Config.ModelType, Is.EqualTo(modelType));
        Assert.That(model.Config.WeightsDType, Is.EqualTo(dtype));
        Assert.That(model.Weights.Tensors, Has.Count.EqualTo(tensors));
        Assert.That(model.Weights.Tensors.All(t => t.DType == dtype), Is.True, "every weight has the config's dtype");
        Assert.That(model.Tokenizer.HasTokenizer, Is.False);
        Assert.That(model.Config.TieWordEmbeddings, Is.EqualTo(modelType == "gpt2"));
        Assert.That(model.TryResolveTensorName("lm_head") is not null, Is.EqualTo(modelType == "llama"), "GPT-2 ties lm_head to wte and stores no lm_head");
    }

    public static IEnumerable<TestCaseData> AdapterOnBase()
    {
        foreach (string b in new[] { "base", "base-hubstyle", "base-bf16" })
            foreach (string a in new[] { "lora_a", "lora_b", "lora_rslora_pattern", "ia3_a", "ia3_b" })
                yield return new TestCaseData($"gpt2-tiny/{b}", $"gpt2-tiny/adapters/{a}");
        foreach (string b in new[] { "base", "base-bf16" })
            foreach (string a in new[] { "lora_qv", "lora_qv_bf16", "lora_all_a", "lora_all_b", "ia3", "ia3_b" })
                yield return new TestCaseData($"llama-tiny/{b}", $"llama-tiny/adapters/{a}");
    }

    [TestCaseSource(nameof(AdapterOnBase))]
    public void EveryAdapterTarget_ResolvesToAFittingBaseWeight(string baseDir, string adapterDir)
    {
        using var model = HuggingFaceModelDirectory.Open(Fixtures.ReferenceModel(baseDir));
        using var adapter = PeftAdapter.Load(Fixtures.ReferenceModel(adapterDir));
        bool hub = baseDir.EndsWith("hubstyle", StringComparison.Ordinal);
        foreach (var m in adapter.LoraModules.Values)
        {
            string name = model.ResolveWeightName(m.ModulePath);
            Assert.That(name, Is.EqualTo(hub ? m.ModulePath["transformer.".Length..] + ".weight" : m.ModulePath + ".weight"));
            var w = model.Weights.GetInfo(name);
            Assert.That(model.IsFanInFanOut(m.ModulePath), Is.EqualTo(m.FanInFanOut), m.ModulePath);
            long[] expected = m.UpdateIsTransposed ? [m.InFeatures, m.OutFeatures] : [m.OutFeatures, m.InFeatures];
            Assert.That(w.Shape, Is.EqualTo(expected), $"{m.ModulePath}: base {w.ShapeText}");
        }
        foreach (var m in adapter.Ia3Modules.Values)
        {
            var w = model.Weights.GetInfo(model.ResolveWeightName(m.ModulePath));
            Assert.That(model.IsFanInFanOut(m.ModulePath), Is.EqualTo(m.FanInFanOut), m.ModulePath);
            // Feed-forward vectors scale in-features, the others out-features; Conv1D stores [in, out].
            int axis = (m.IsFeedForward ? 1 : 0) ^ (m.FanInFanOut ? 1 : 0);
            Assert.That(w.Shape[axis], Is.EqualTo(m.Length), $"{m.ModulePath}: base {w.ShapeText}");
        }
    }

    [Test]
    public void Resolve_Candidates()
    {
        using var hub = HuggingFaceModelDirectory.Open(Fixtures.ReferenceModel("gpt2-tiny/base-hubstyle"));
        Assert.That(hub.ResolveTensorName("transformer.h.1.attn.c_attn", "bias"), Is.EqualTo("h.1.attn.c_attn.bias"));
        Assert.That(hub.TryResolveTensorName("transformer.wte"), Is.EqualTo("wte.weight"));
        using var prefixed = HuggingFaceModelDirectory.Open(Fixtures.ReferenceModel("gpt2-tiny/base"));
        Assert.That(prefixed.ResolveWeightName("h.0.mlp.c_fc"), Is.EqualTo("transformer.h.0.mlp.c_fc.weight"), "adapter trained on the bare GPT2Model");
        var e = Assert.Throws<KeyNotFoundException>(() => prefixed.ResolveWeightName("transformer.h.9.attn.c_attn"))!;
        Assert.That(e.Message, Does.Contain("transformer.h.9.attn.c_attn.weight").And.Contain("h.9.attn.c_attn.weight"));
    }
}
