using System.Text.Json.Nodes;
using PeftNative.Adapters;

namespace PeftNative.Tests.Adapters;

/// <summary>
/// <see cref="PeftAdapter.FromSource"/> and <see cref="PeftAdapter.Create"/> against tensor layouts
/// built in memory: valid layouts load with the right modules, every inconsistency is refused
/// naming the file and the tensor.
/// </summary>
[TestFixture]
public class AdapterValidationTests
{
    private const string P = "base_model.model.";

    private static AdapterConfig Lora(Action<JsonObject>? edit = null)
    {
        var o = new JsonObject
        {
            ["peft_type"] = "LORA",
            ["r"] = 4,
            ["lora_alpha"] = 8,
            ["target_modules"] = new JsonArray("q_proj", "v_proj"),
        };
        edit?.Invoke(o);
        return AdapterConfig.FromJsonObject(o, "/a/adapter_config.json");
    }

    private static AdapterConfig Ia3() => AdapterConfig.CreateIa3(ModuleSelector.FromNames(["k_proj", "down_proj"]), ModuleSelector.FromNames(["down_proj"]));

    private static InMemoryTensorSource QvLayer(InMemoryTensorSource s, int layer, int r = 4) => s
        .Add($"{P}model.layers.{layer}.self_attn.q_proj.lora_A.weight", DType.F32, r, 48)
        .Add($"{P}model.layers.{layer}.self_attn.q_proj.lora_B.weight", DType.F32, 48, r)
        .Add($"{P}model.layers.{layer}.self_attn.v_proj.lora_A.weight", DType.F32, r, 48)
        .Add($"{P}model.layers.{layer}.self_attn.v_proj.lora_B.weight", DType.F32, 24, r);

    private static AdapterFormatException Refused(AdapterConfig config, InMemoryTensorSource source)
    {
        var e = Assert.Throws<AdapterFormatException>(() => PeftAdapter.FromSource(config, source))!;
        Assert.That(source.Disposed, Is.True, "the source is disposed when loading fails");
        Assert.That(e.FilePath, Is.EqualTo(source.SourcePath));
        return e;
    }

    [Test]
    public void ValidLora_Modules()
    {
        using var adapter = PeftAdapter.FromSource(Lora(), QvLayer(QvLayer(new InMemoryTensorSource(), 0), 1));
        Assert.That(adapter.Type, Is.EqualTo(PeftType.Lora));
        Assert.That(adapter.LoraModules.Keys, Is.EquivalentTo(new[]
        {
            "model.layers.0.self_attn.q_proj", "model.layers.0.self_attn.v_proj", "model.layers.1.self_attn.q_proj", "model.layers.1.self_attn.v_proj",
        }));
        var v = adapter.LoraModules["model.layers.1.self_attn.v_proj"];
        Assert.That((v.Rank, v.InFeatures, v.OutFeatures, v.Alpha, v.Scaling), Is.EqualTo((4, 48L, 24L, 8.0, 2.0)));
        Assert.That(v.IsEmbedding || v.FanInFanOut || v.UpdateIsTransposed, Is.False);
        Assert.That(v.ATensorName, Is.EqualTo($"{P}model.layers.1.self_attn.v_proj.lora_A.weight"));
        Assert.That(adapter.Ia3Modules, Is.Empty);
        Assert.That(adapter.ExtraTensors, Is.Empty);
    }

    [Test]
    public void AdapterNameInKeys_IsAccepted()
    {
        var s = new InMemoryTensorSource()
            .Add($"{P}model.layers.0.self_attn.q_proj.lora_A.default.weight", DType.F32, 4, 48)
            .Add($"{P}model.layers.0.self_attn.q_proj.lora_B.default.weight", DType.F32, 48, 4);
        using var adapter = PeftAdapter.FromSource(Lora(), s);
        Assert.That(adapter.LoraModules.Keys, Is.EqualTo(new[] { "model.layers.0.self_attn.q_proj" }));
    }

    [Test]
    public void EmbeddingLora_IsTransposedUpdate()
    {
        var s = new InMemoryTensorSource()
            .Add($"{P}model.embed_tokens.lora_embedding_A", DType.F32, 4, 80)
            .Add($"{P}model.embed_tokens.lora_embedding_B", DType.F32, 48, 4);
        using var adapter = PeftAdapter.FromSource(Lora(o => o["target_modules"] = new JsonArray("embed_tokens")), s);
        var m = adapter.LoraModules["model.embed_tokens"];
        Assert.That(m.IsEmbedding, Is.True);
        Assert.That(m.UpdateIsTransposed, Is.True);
        Assert.That((m.InFeatures, m.OutFeatures), Is.EqualTo((80L, 48L)));
        Assert.That(m.BTensorName, Is.EqualTo($"{P}model.embed_tokens.lora_embedding_B"));
    }

    [Test]
    public void RankPattern_ModulesGetTheirRank()
    {
        var s = QvLayer(new InMemoryTensorSource(), 0);
        s.Add($"{P}model.layers.1.self_attn.q_proj.lora_A.weight", DType.BF16, 2, 48).Add($"{P}model.layers.1.self_attn.q_proj.lora_B.weight", DType.BF16, 48, 2);
        var cfg = Lora(o => { o["rank_pattern"] = new JsonObject { [@"layers\.1\.self_attn\.q_proj"] = 2 }; o["alpha_pattern"] = new JsonObject { ["q_proj"] = 1 }; });
        using var adapter = PeftAdapter.FromSource(cfg, s);
        var m = adapter.LoraModules["model.layers.1.self_attn.q_proj"];
        Assert.That((m.Rank, m.Alpha, m.Scaling), Is.EqualTo((2, 1.0, 0.5)));
        Assert.That(adapter.LoraModules["model.layers.0.self_attn.v_proj"].Scaling, Is.EqualTo(2.0));
        Assert.That(m.A.DType, Is.EqualTo(DType.BF16));
    }

    [Test]
    public void RankDisagreesWithConfig_NamesTensorAndRule()
    {
        var e = Refused(Lora(), QvLayer(new InMemoryTensorSource(), 0, r: 8));
        Assert.That(e.Key, Is.EqualTo($"{P}model.layers.0.self_attn.q_proj.lora_A.weight"));
        Assert.That(e.Message, Does.Contain("has rank 8").And.Contain("r is 4"));
        var withPattern = Refused(Lora(o => o["rank_pattern"] = new JsonObject { ["v_proj"] = 2 }), QvLayer(new InMemoryTensorSource(), 0));
        Assert.That(withPattern.Message, Does.Contain("rank_pattern \"v_proj\" gives 2"));
    }

    [Test]
    public void ARankDiffersFromBRank()
    {
        var s = new InMemoryTensorSource()
            .Add($"{P}model.layers.0.self_attn.q_proj.lora_A.weight", DType.F32, 4, 48)
            .Add($"{P}model.layers.0.self_attn.q_proj.lora_B.weight", DType.F32, 48, 3);
        var e = Refused(Lora(), s);
        Assert.That(e.Key, Does.EndWith("q_proj.lora_A.weight"));
        Assert.That(e.Message, Does.Contain("the ranks must agree").And.Contain("lora_B.weight"));
    }

    [Test]
    public void NonMatrixFactor()
    {
        var s = new InMemoryTensorSource()
            .Add($"{P}model.layers.0.self_attn.q_proj.lora_A.weight", DType.F32, 4, 48, 1, 1)
            .Add($"{P}model.layers.0.self_attn.q_proj.lora_B.weight", DType.F32, 48, 4, 1, 1);
        Assert.That(Refused(Lora(), s).Message, Does.Contain("A must be 2-D"));
    }

    [Test]
    public void IntegerFactor()
    {
        var s = new InMemoryTensorSource()
            .Add($"{P}model.layers.0.self_attn.q_proj.lora_A.weight", DType.I32, 4, 48)
            .Add($"{P}model.layers.0.self_attn.q_proj.lora_B.weight", DType.F32, 48, 4);
        Assert.That(Refused(Lora(), s).Message, Does.Contain("must be F32, F16 or BF16"));
    }

    [Test]
    public void MissingB()
    {
        var s = new InMemoryTensorSource().Add($"{P}model.layers.0.self_attn.q_proj.lora_A.weight", DType.F32, 4, 48);
        var e = Refused(Lora(), s);
        Assert.That(e.Message, Does.Contain("has no lora_B.weight"));
    }

    [Test]
    public void DuplicateFactor_WithAndWithoutAdapterName()
    {
        var s = QvLayer(new InMemoryTensorSource(), 0).Add($"{P}model.layers.0.self_attn.q_proj.lora_A.default.weight", DType.F32, 4, 48);
        Assert.That(Refused(Lora(), s).Message, Does.Contain("second LoraA tensor"));
    }

    [Test]
    public void MixedAdapterNames()
    {
        var s = new InMemoryTensorSource()
            .Add($"{P}model.layers.0.self_attn.q_proj.lora_A.one.weight", DType.F32, 4, 48)
            .Add($"{P}model.layers.0.self_attn.q_proj.lora_B.two.weight", DType.F32, 48, 4);
        Assert.That(Refused(Lora(), s).Message, Does.Contain("one file, one adapter"));
    }

    [Test]
    public void ModuleNotTargeted()
    {
        var s = QvLayer(new InMemoryTensorSource(), 0)
            .Add($"{P}model.layers.0.self_attn.k_proj.lora_A.weight", DType.F32, 4, 48)
            .Add($"{P}model.layers.0.self_attn.k_proj.lora_B.weight", DType.F32, 24, 4);
        var e = Refused(Lora(), s);
        Assert.That(e.Key, Does.Contain("k_proj"));
        Assert.That(e.Message, Does.Contain("not selected by target_modules [q_proj, v_proj]"));
    }

    [Test]
    public void ModuleOutsideLayersToTransform()
    {
        var e = Refused(Lora(o => o["layers_to_transform"] = new JsonArray(0)), QvLayer(QvLayer(new InMemoryTensorSource(), 0), 1));
        Assert.That(e.Key, Does.Contain("layers.1."));
        Assert.That(e.Message, Does.Contain("layers_to_transform [0]"));
    }

    [Test]
    public void UnexplainedTensor()
    {
        var s = QvLayer(new InMemoryTensorSource(), 0).Add($"{P}model.layers.0.mlp.gate_proj.weight", DType.F32, 112, 48);
        var e = Refused(Lora(), s);
        Assert.That(e.Key, Is.EqualTo($"{P}model.layers.0.mlp.gate_proj.weight"));
        Assert.That(e.Message, Does.Contain("is not explained by adapter_config.json"));
    }

    [Test]
    public void Dora_Magnitude()
    {
        var s = QvLayer(new InMemoryTensorSource(), 0).Add($"{P}model.layers.0.self_attn.q_proj.lora_magnitude_vector", DType.F32, 48);
        Assert.That(Refused(Lora(), s).Message, Does.Contain("DoRA adapters are not supported"));
    }

    [Test]
    public void LoraTensorInIa3Adapter_AndBack()
    {
        Assert.That(Refused(Ia3(), QvLayer(new InMemoryTensorSource(), 0)).Message, Does.Contain("says peft_type \"IA3\""));
        var s = new InMemoryTensorSource().Add($"{P}model.layers.0.self_attn.k_proj.ia3_l", DType.F32, 24, 1);
        Assert.That(Refused(Lora(), s).Message, Does.Contain("says peft_type \"LORA\""));
    }

    [Test]
    public void Empty()
    {
        Assert.That(Refused(Lora(), new InMemoryTensorSource()).Message, Does.Contain("holds no LoRA tensors"));
        Assert.That(Refused(Ia3(), new InMemoryTensorSource()).Message, Does.Contain("holds no (IA)^3 tensors"));
    }

    [Test]
    public void Ia3_OrientationByFeedForward()
    {
        var s = new InMemoryTensorSource()
            .Add($"{P}model.layers.0.self_attn.k_proj.ia3_l", DType.F32, 24, 1)
            .Add($"{P}model.layers.0.mlp.down_proj.ia3_l", DType.F16, 1, 112);
        using var adapter = PeftAdapter.FromSource(Ia3(), s);
        var k = adapter.Ia3Modules["model.layers.0.self_attn.k_proj"];
        var d = adapter.Ia3Modules["model.layers.0.mlp.down_proj"];
        Assert.That((k.IsFeedForward, k.ScalesOutput, k.Length), Is.EqualTo((false, true, 24L)));
        Assert.That((d.IsFeedForward, d.ScalesOutput, d.Length), Is.EqualTo((true, false, 112L)));
    }

    [Test]
    public void Ia3_WrongOrientation()
    {
        var s = new InMemoryTensorSource().Add($"{P}model.layers.0.mlp.down_proj.ia3_l", DType.F32, 112, 1);
        var e = Refused(Ia3(), s);
        Assert.That(e.Key, Is.EqualTo($"{P}model.layers.0.mlp.down_proj.ia3_l"));
        Assert.That(e.Message, Does.Contain("must be [1, in_features], got [112, 1]").And.Contain("feedforward_modules selects this module"));
        var flat = new InMemoryTensorSource().Add($"{P}model.layers.0.self_attn.k_proj.ia3_l", DType.F32, 24);
        Assert.That(Refused(Ia3(), flat).Message, Does.Contain("must be [out_features, 1], got [24]"));
    }

    [Test]
    public void Extras_ModulesToSave_Biases_EmbeddingLayers()
    {
        var cfg = Lora(o => { o["modules_to_save"] = new JsonArray("score"); o["bias"] = "all"; });
        var s = QvLayer(new InMemoryTensorSource(), 0)
            .Add($"{P}score.weight", DType.F32, 2, 48)
            .Add($"{P}score.modules_to_save.default.bias", DType.F32, 2)
            .Add($"{P}model.layers.0.mlp.down_proj.bias", DType.F32, 48)
            .Add($"{P}model.embed_tokens.weight", DType.F32, 80, 48)
            .Add($"{P}model.layers.0.self_attn.q_proj.base_layer.bias", DType.F32, 48);
        using var adapter = PeftAdapter.FromSource(cfg, s);
        var x = adapter.ExtraTensors;
        Assert.That(x[$"{P}score.weight"].Kind, Is.EqualTo(AdapterExtraTensorKind.ModulesToSave));
        Assert.That(x[$"{P}score.weight"].BaseTensorName, Is.EqualTo("score.weight"));
        Assert.That(x[$"{P}score.modules_to_save.default.bias"].BaseTensorName, Is.EqualTo("score.bias"));
        Assert.That(x[$"{P}model.layers.0.mlp.down_proj.bias"].Kind, Is.EqualTo(AdapterExtraTensorKind.Bias));
        Assert.That(x[$"{P}model.embed_tokens.weight"].Kind, Is.EqualTo(AdapterExtraTensorKind.EmbeddingLayer));
        Assert.That(x[$"{P}model.layers.0.self_attn.q_proj.base_layer.bias"].BaseTensorName, Is.EqualTo("model.layers.0.self_attn.q_proj.bias"));
    }

    [Test]
    public void Bias_LoraOnly_And_None()
    {
        var onlyLora = Lora(o => o["bias"] = "lora_only");
        var ok = QvLayer(new InMemoryTensorSource(), 0).Add($"{P}model.layers.0.self_attn.q_proj.bias", DType.F32, 48);
        using (var adapter = PeftAdapter.FromSource(onlyLora, ok))
            Assert.That(adapter.ExtraTensors.Values.Single().Kind, Is.EqualTo(AdapterExtraTensorKind.Bias));
        var bad = QvLayer(new InMemoryTensorSource(), 0).Add($"{P}model.layers.0.mlp.up_proj.bias", DType.F32, 112);
        Assert.That(Refused(onlyLora, bad).Message, Does.Contain("has no LoRA, but bias is \"lora_only\""));
        var none = QvLayer(new InMemoryTensorSource(), 0).Add($"{P}model.layers.0.self_attn.q_proj.bias", DType.F32, 48);
        Assert.That(Refused(Lora(), none).Message, Does.Contain("bias is \"none\""));
    }

    [Test]
    public void LoraBBias()
    {
        var s = QvLayer(new InMemoryTensorSource(), 0).Add($"{P}model.layers.0.self_attn.v_proj.lora_B.bias", DType.F32, 24);
        using (var adapter = PeftAdapter.FromSource(Lora(o => o["lora_bias"] = true), s))
            Assert.That(adapter.LoraModules["model.layers.0.self_attn.v_proj"].BBias!.ShapeText, Is.EqualTo("24"));
        var off = QvLayer(new InMemoryTensorSource(), 0).Add($"{P}model.layers.0.self_attn.v_proj.lora_B.bias", DType.F32, 24);
        Assert.That(Refused(Lora(), off).Message, Does.Contain("lora_bias is false"));
        var wrong = QvLayer(new InMemoryTensorSource(), 0).Add($"{P}model.layers.0.self_attn.v_proj.lora_B.bias", DType.F32, 48);
        Assert.That(Refused(Lora(o => o["lora_bias"] = true), wrong).Message, Does.Contain("float vector of 24 elements"));
    }

    [Test]
    public void Dispose_ReleasesSource()
    {
        var s = QvLayer(new InMemoryTensorSource(), 0);
        var adapter = PeftAdapter.FromSource(Lora(), s);
        Assert.That(s.Disposed, Is.False);
        adapter.Dispose();
        Assert.That((s.Disposed, adapter.IsDisposed), Is.EqualTo((true, true)));
        adapter.Dispose();
    }

    [Test]
    public void Create_ChecksModulesAgainstConfig()
    {
        var cfg = Lora();
        Tensor A(long r, long i) => Tensor.Allocate(DType.F32, r, i);
        using (var ok = PeftAdapter.Create(cfg, [LoraModule.FromConfig(cfg, "model.layers.0.self_attn.q_proj", A(4, 48), A(48, 4))]))
        {
            Assert.That(ok.LoraModules.Single().Value.Scaling, Is.EqualTo(2.0));
            Assert.That(ok.DirectoryPath, Is.Null);
        }
        var wrongRank = Assert.Throws<ArgumentException>(() => PeftAdapter.Create(cfg, [LoraModule.FromConfig(cfg, "model.layers.0.self_attn.q_proj", A(2, 48), A(48, 2))]))!;
        Assert.That(wrongRank.Message, Does.Contain("rank 2 but the config gives it rank 4; set r or rank_pattern"));
        var notTargeted = Assert.Throws<ArgumentException>(() => PeftAdapter.Create(cfg, [LoraModule.FromConfig(cfg, "model.layers.0.mlp.up_proj", A(4, 48), A(112, 4))]))!;
        Assert.That(notTargeted.Message, Does.Contain("not selected"));
        var wrongAlpha = Assert.Throws<ArgumentException>(() => PeftAdapter.Create(cfg, [new LoraModule("model.layers.0.self_attn.q_proj", A(4, 48), A(48, 4), alpha: 3)]))!;
        Assert.That(wrongAlpha.Message, Does.Contain("alpha 3"));
        var twice = Assert.Throws<ArgumentException>(() => PeftAdapter.Create(cfg, [
            LoraModule.FromConfig(cfg, "model.layers.0.self_attn.q_proj", A(4, 48), A(48, 4)),
            LoraModule.FromConfig(cfg, "model.layers.0.self_attn.q_proj", A(4, 48), A(48, 4))]))!;
        Assert.That(twice.Message, Does.Contain("appears twice"));
        Assert.Throws<ArgumentException>(() => PeftAdapter.Create(cfg));
        Assert.Throws<ArgumentException>(() => new LoraModule("m", A(4, 48), A(48, 3), 8));
        Assert.Throws<ArgumentException>(() => new Ia3Module("m", A(1, 8), isFeedForward: false));
    }

    [Test]
    public void Config_IsACopy()
    {
        using var adapter = PeftAdapter.FromSource(Lora(), QvLayer(new InMemoryTensorSource(), 0));
        var c = adapter.Config;
        c.R = 16;
        Assert.That(adapter.Config.R, Is.EqualTo(4));
    }
}
