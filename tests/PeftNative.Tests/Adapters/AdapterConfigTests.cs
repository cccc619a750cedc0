using System.Text.Json.Nodes;
using PeftNative.Adapters;

namespace PeftNative.Tests.Adapters;

/// <summary>
/// <see cref="AdapterConfig"/>: every fixture config parses with the values its file states, writes
/// back byte-identical (the fixtures were written by PEFT's json.dumps(indent=2, sort_keys=True)),
/// keeps unknown fields through setters, and the setters validate.
/// </summary>
[TestFixture]
public class AdapterConfigTests
{
    /// <summary>Every adapter_config.json among the fixtures, relative to the fixtures root.</summary>
    public static IEnumerable<string> FixtureConfigs()
    {
        string? root = Fixtures.Root;
        if (root is null)
            yield break;
        foreach (string f in Directory.EnumerateFiles(root, AdapterConfig.FileName, SearchOption.AllDirectories).Order(StringComparer.Ordinal))
            yield return Path.GetRelativePath(root, f);
    }

    [Test]
    public void FixtureConfigs_AreFound() =>
        Assert.That(FixtureConfigs().Count(), Is.GreaterThanOrEqualTo(25), "expected the reference-model, weighted and real adapter configs");

    [TestCaseSource(nameof(FixtureConfigs))]
    public void FixtureConfig_RoundTripsByteIdentical(string relative)
    {
        string path = Fixtures.Require(relative);
        string text = File.ReadAllText(path);
        var config = AdapterConfig.Parse(text, path);
        Assert.That(config.ToJson(), Is.EqualTo(text), "PEFT layout: json.dumps(indent=2, sort_keys=True)");
        var again = AdapterConfig.Parse(config.ToJson(), path);
        Assert.That(again.Keys, Is.EqualTo(config.Keys.Order(StringComparer.Ordinal)));
        foreach (string key in config.Keys)
            Assert.That(JsonNode.DeepEquals(again.GetRaw(key), config.GetRaw(key)), Is.True, key);
    }

    [Test]
    public void Tigrinya_FieldsAsWritten()
    {
        var c = AdapterConfig.Load(Path.Combine(Fixtures.RealAdapter("gpt2-tigrinya-lora"), AdapterConfig.FileName));
        Assert.That(c.PeftType, Is.EqualTo(PeftType.Lora));
        Assert.That(c.R, Is.EqualTo(8));
        Assert.That(c.LoraAlpha, Is.EqualTo(32));
        Assert.That(c.UseRsLora, Is.False);
        Assert.That(c.FanInFanOut, Is.True);
        Assert.That(c.TargetModules.Names, Is.EqualTo(new[] { "c_attn", "c_proj" }));
        Assert.That(c.TargetModules.IsRegex, Is.False);
        Assert.That(c.Bias, Is.EqualTo(LoraBiasMode.None));
        Assert.That(c.LoraBias, Is.False);
        Assert.That(c.BaseModelNameOrPath, Is.EqualTo("gpt2"));
        Assert.That(c.TaskType, Is.EqualTo("CAUSAL_LM"));
        Assert.That(c.InferenceMode, Is.True);
        Assert.That(c.LoraDropout, Is.EqualTo(0.05));
        Assert.That(c.InitLoraWeights, Is.EqualTo("true"));
        Assert.That(c.ModulesToSave, Is.Null);
        Assert.That(c.LayersToTransform, Is.Null);
        Assert.That(c.RankPattern, Is.Empty);
        Assert.That(c.ScalingFor("transformer.h.3.attn.c_attn"), Is.EqualTo(4.0));
        // Newer-PEFT fields this library does not model are still there.
        Assert.That(c.GetRaw("qalora_group_size")!.GetValue<int>(), Is.EqualTo(16));
        Assert.That(c.ContainsKey("corda_config"), Is.True);
    }

    [Test]
    public void RsLoraPattern_PerModuleRankAlphaScaling_ByHand()
    {
        var c = AdapterConfig.Load(Fixtures.ReferenceModel("gpt2-tiny/adapters/lora_rslora_pattern/adapter_config.json"));
        // Config: r=4, lora_alpha=6, use_rslora, rank_pattern {c_fc: 2}, alpha_pattern {c_fc: 3}.
        Assert.That(c.UseRsLora, Is.True);
        Assert.That(c.RankPattern, Is.EqualTo(new Dictionary<string, int> { ["c_fc"] = 2 }));
        Assert.That(c.AlphaPattern, Is.EqualTo(new Dictionary<string, double> { ["c_fc"] = 3 }));
        Assert.That(c.RankFor("transformer.h.0.attn.c_attn"), Is.EqualTo(4));
        Assert.That(c.AlphaFor("transformer.h.0.attn.c_attn"), Is.EqualTo(6));
        Assert.That(c.ScalingFor("transformer.h.0.attn.c_attn"), Is.EqualTo(6 / Math.Sqrt(4)));
        Assert.That(c.RankFor("transformer.h.1.mlp.c_fc"), Is.EqualTo(2));
        Assert.That(c.AlphaFor("transformer.h.1.mlp.c_fc"), Is.EqualTo(3));
        Assert.That(c.ScalingFor("transformer.h.1.mlp.c_fc"), Is.EqualTo(3 / Math.Sqrt(2)));
        Assert.That(c.RankPatternKeyFor("transformer.h.1.mlp.c_fc"), Is.EqualTo("c_fc"));
        Assert.That(c.RankPatternKeyFor("transformer.h.1.attn.c_attn"), Is.Null);
    }

    [Test]
    public void Ia3_FieldsAsWritten()
    {
        var c = AdapterConfig.Load(Fixtures.ReferenceModel("llama-tiny/adapters/ia3/adapter_config.json"));
        Assert.That(c.PeftType, Is.EqualTo(PeftType.Ia3));
        Assert.That(c.TargetModules.Names, Is.EqualTo(new[] { "k_proj", "v_proj", "down_proj" }));
        Assert.That(c.FeedforwardModules!.Names, Is.EqualTo(new[] { "down_proj" }));
        Assert.That(c.InitIa3Weights, Is.True);
        Assert.That(c.IsFeedForward("model.layers.0.mlp.down_proj"), Is.True);
        Assert.That(c.IsFeedForward("model.layers.0.self_attn.k_proj"), Is.False);
        Assert.Throws<InvalidOperationException>(() => _ = c.R, "r belongs to LoRA");
    }

    [Test]
    public void Setters_KeepUnknownFields_AndWriteLikePython()
    {
        string text = File.ReadAllText(Fixtures.ReferenceModel("gpt2-tiny/adapters/lora_a/adapter_config.json"));
        var obj = (JsonObject)JsonNode.Parse(text)!;
        obj["zz_custom"] = new JsonObject { ["nested"] = new JsonArray(1, 2.5, "x") };
        obj["aa_legacy_flag"] = true;
        var c = AdapterConfig.FromJsonObject(obj, "mem");
        c.R = 16;
        c.LoraAlpha = 2.5;
        c.UseRsLora = true;
        c.RankPattern = new Dictionary<string, int> { ["h\\.1\\..*"] = 6 };
        c.AlphaPattern = new Dictionary<string, double> { ["c_fc"] = 12 };
        c.BaseModelNameOrPath = "gpt2-x";
        c.TargetModules = ModuleSelector.FromNames(["c_attn"]);

        string json = c.ToJson();
        Assert.That(json, Does.StartWith("{\n  \"aa_legacy_flag\": true,\n  \"alpha_pattern\": {\n    \"c_fc\": 12\n  },"));
        Assert.That(json, Does.Contain("\n  \"lora_alpha\": 2.5,\n"));
        Assert.That(json, Does.Contain("\n  \"r\": 16,\n  \"rank_pattern\": {\n    \"h\\\\.1\\\\..*\": 6\n  },\n"));
        Assert.That(json, Does.Contain("\n  \"target_modules\": [\n    \"c_attn\"\n  ],\n"));
        Assert.That(json, Does.EndWith("\n  \"use_rslora\": true,\n  \"zz_custom\": {\n    \"nested\": [\n      1,\n      2.5,\n      \"x\"\n    ]\n  }\n}"));

        var back = AdapterConfig.Parse(json, "mem2");
        Assert.That(back.R, Is.EqualTo(16));
        Assert.That(back.LoraAlpha, Is.EqualTo(2.5));
        Assert.That(back.UseRsLora, Is.True);
        Assert.That(back.RankFor("transformer.h.1.mlp.c_fc"), Is.EqualTo(6));
        Assert.That(back.RankFor("transformer.h.0.mlp.c_fc"), Is.EqualTo(16));
        Assert.That(back.AlphaFor("transformer.h.0.mlp.c_fc"), Is.EqualTo(12));
        Assert.That(back.BaseModelNameOrPath, Is.EqualTo("gpt2-x"));
        Assert.That(back.GetRaw("zz_custom")!.ToJsonString(), Is.EqualTo("{\"nested\":[1,2.5,\"x\"]}"));
        Assert.That(back.GetRaw("megatron_core")!.GetValue<string>(), Is.EqualTo("megatron.core"));
    }

    [Test]
    public void Setters_RejectBadValues_AndLeaveConfigUnchanged()
    {
        var c = AdapterConfig.CreateLora(8, 16, ModuleSelector.FromNames(["q_proj"]));
        string before = c.ToJson();
        Assert.Throws<ArgumentOutOfRangeException>(() => c.R = 0);
        Assert.Throws<ArgumentOutOfRangeException>(() => c.LoraAlpha = double.NaN);
        var e = Assert.Throws<ArgumentException>(() => c.RankPattern = new Dictionary<string, int> { ["q("] = 4 })!;
        Assert.That(e.Message, Does.Contain("rank_pattern").And.Contain("not a valid regular expression"));
        Assert.Throws<ArgumentException>(() => c.RankPattern = new Dictionary<string, int> { ["q"] = -4 });
        Assert.Throws<ArgumentException>(() => c.TargetModules = ModuleSelector.FromNames([]));
        Assert.That(c.ToJson(), Is.EqualTo(before));
        Assert.Throws<InvalidOperationException>(() => c.FeedforwardModules = ModuleSelector.FromNames(["q_proj"]));
    }

    [Test]
    public void Clone_IsIndependent()
    {
        var a = AdapterConfig.CreateLora(4, 8, ModuleSelector.FromNames(["q_proj", "v_proj"]));
        var b = a.Clone();
        b.R = 2;
        Assert.That(a.R, Is.EqualTo(4));
        Assert.That(b.R, Is.EqualTo(2));
    }

    [Test]
    public void CreateLora_And_CreateIa3_ProducePeftFields()
    {
        var lora = AdapterConfig.CreateLora(4, 8, ModuleSelector.FromRegex(@".*\.(q|v)_proj"), baseModelNameOrPath: "m");
        Assert.That(lora.ToJson(), Does.Contain("\"peft_type\": \"LORA\"").And.Contain("\"target_modules\": \".*\\\\.(q|v)_proj\""));
        Assert.That(lora.Targets("model.layers.0.self_attn.q_proj"), Is.True);
        Assert.That(lora.Targets("model.layers.0.self_attn.k_proj"), Is.False);
        Assert.That(AdapterConfig.Parse(lora.ToJson(), "x").LoraAlpha, Is.EqualTo(8));

        var ia3 = AdapterConfig.CreateIa3(ModuleSelector.FromNames(["k_proj", "down_proj"]), ModuleSelector.FromNames(["down_proj"]));
        Assert.That(ia3.PeftType, Is.EqualTo(PeftType.Ia3));
        Assert.That(ia3.IsFeedForward("model.layers.3.mlp.down_proj"), Is.True);
        Assert.Throws<ArgumentException>(() => AdapterConfig.CreateIa3(ModuleSelector.FromNames(["k_proj"]), ModuleSelector.FromNames(["down_proj"])));
    }

    [Test]
    public void Alpha_IntegerStaysInteger_FloatStaysFloat()
    {
        var c = AdapterConfig.Parse("""{"peft_type": "LORA", "r": 4, "lora_alpha": 16.0, "target_modules": ["q"]}""", "x");
        Assert.That(c.ToJson(), Does.Contain("\"lora_alpha\": 16.0"), "a float in the file stays a float (Python re-emits 16.0)");
        c.LoraAlpha = 32;
        Assert.That(c.ToJson(), Does.Contain("\"lora_alpha\": 32,"), "an integral alpha set in code is written as an int, as PEFT configs carry it");
    }
}
