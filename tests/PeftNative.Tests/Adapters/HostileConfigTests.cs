using System.Text.Json.Nodes;
using PeftNative.Adapters;

namespace PeftNative.Tests.Adapters;

/// <summary>
/// Broken adapter configs, each refused with <see cref="AdapterFormatException"/> naming the file,
/// the key at fault, and what is wrong.
/// </summary>
[TestFixture]
public class HostileConfigTests
{
    private const string File = "/cfg/adapter_config.json";

    private static string Lora(Action<JsonObject> edit)
    {
        var o = new JsonObject
        {
            ["peft_type"] = "LORA",
            ["r"] = 8,
            ["lora_alpha"] = 16,
            ["target_modules"] = new JsonArray("q_proj", "v_proj"),
        };
        edit(o);
        return o.ToJsonString();
    }

    private static string Ia3(Action<JsonObject> edit)
    {
        var o = new JsonObject
        {
            ["peft_type"] = "IA3",
            ["target_modules"] = new JsonArray("k_proj", "v_proj", "down_proj"),
            ["feedforward_modules"] = new JsonArray("down_proj"),
        };
        edit(o);
        return o.ToJsonString();
    }

    public static IEnumerable<TestCaseData> Cases()
    {
        TestCaseData Case(string name, string json, string? key, string fragment) =>
            new TestCaseData(json, key, fragment).SetName("Hostile_" + name);

        yield return Case("NotJson", "{\"peft_type\": \"LORA\",", null, "not valid JSON");
        yield return Case("Empty", "", null, "not valid JSON");
        yield return Case("TopLevelList", "[1, 2]", null, "must hold a JSON object");
        yield return Case("LoneSurrogate", "{\"peft_type\": \"LORA\", \"note\": \"\\ud800\", \"target_modules\": [\"q\"]}", null, "not valid JSON");
        // Found by the adapter-config fuzzer: an overflowing number in an unknown field used to parse, then
        // serialise as Python's "Infinity", which is not JSON and could not be read back.
        yield return Case("NumberOverflowsFloat64", "{\"peft_type\":\"LORA\",\"r\":8,\"target_modules\":[\"q_proj\"],\"x\":1e309}", null, "'x': number 1e309 is outside the float64 range");
        yield return Case("DuplicateKey", "{\"peft_type\": \"LORA\", \"r\": 8, \"r\": 16, \"target_modules\": [\"q\"]}", null, "duplicate key 'r'");
        yield return Case("PeftTypeMissing", Lora(o => o.Remove("peft_type")), "peft_type", "missing");
        yield return Case("PeftTypeNotString", Lora(o => o["peft_type"] = 3), "peft_type", "must be a string");
        yield return Case("PeftTypeLoha", Lora(o => o["peft_type"] = "LOHA"), "peft_type", "\"LOHA\" adapters are not supported");
        yield return Case("PeftTypeAdaLora", Lora(o => o["peft_type"] = "ADALORA"), "peft_type", "not supported");
        yield return Case("PeftTypePrefix", Lora(o => o["peft_type"] = "PREFIX_TUNING"), "peft_type", "not supported");
        yield return Case("PeftTypeUnknown", Lora(o => o["peft_type"] = "lora"), "peft_type", "unknown PEFT method \"lora\"");
        yield return Case("RankZero", Lora(o => o["r"] = 0), "r", "must be a positive integer, found the number 0");
        yield return Case("RankNegative", Lora(o => o["r"] = -4), "r", "must be a positive integer");
        yield return Case("RankFractional", Lora(o => o["r"] = 8.5), "r", "must be a positive integer, found the number 8.5");
        yield return Case("RankFloatText", "{\"peft_type\": \"LORA\", \"r\": 8.0, \"target_modules\": [\"q\"]}", "r", "found the number 8.0");
        yield return Case("RankString", Lora(o => o["r"] = "8"), "r", "found the string \"8\"");
        yield return Case("RankHuge", Lora(o => o["r"] = 1L << 40), "r", "must be a positive integer");
        yield return Case("AlphaString", Lora(o => o["lora_alpha"] = "16"), "lora_alpha", "must be a number");
        yield return Case("AlphaBool", Lora(o => o["lora_alpha"] = true), "lora_alpha", "must be a number, found true");
        yield return Case("AlphaInfinite", "{\"peft_type\": \"LORA\", \"r\": 8, \"lora_alpha\": 1e999, \"target_modules\": [\"q\"]}", null, "'lora_alpha': number 1e999 is outside the float64 range");
        yield return Case("TargetsMissing", Lora(o => o.Remove("target_modules")), "target_modules", "missing or null");
        yield return Case("TargetsNumber", Lora(o => o["target_modules"] = 5), "target_modules", "list of module names or a regular expression");
        yield return Case("TargetsObject", Lora(o => o["target_modules"] = new JsonObject()), "target_modules", "list of module names or a regular expression");
        yield return Case("TargetsItemNotString", Lora(o => o["target_modules"] = new JsonArray("q_proj", 3)), "target_modules", "item 1 must be a string");
        yield return Case("TargetsEmpty", Lora(o => o["target_modules"] = new JsonArray()), "target_modules", "empty list");
        yield return Case("TargetsBadRegex", Lora(o => o["target_modules"] = "q_proj["), "target_modules", "is not a valid regular expression");
        yield return Case("ExcludeBadType", Lora(o => o["exclude_modules"] = 1), "exclude_modules", "list of module names or a regular expression");
        yield return Case("RankPatternList", Lora(o => o["rank_pattern"] = new JsonArray(1)), "rank_pattern", "must be an object");
        yield return Case("RankPatternString", Lora(o => o["rank_pattern"] = new JsonObject { ["q_proj"] = "4" }), "rank_pattern", "pattern \"q_proj\" must map to a number");
        yield return Case("RankPatternZero", Lora(o => o["rank_pattern"] = new JsonObject { ["q_proj"] = 0 }), "rank_pattern", "must be a positive integer");
        yield return Case("RankPatternBadRegex", Lora(o => o["rank_pattern"] = new JsonObject { ["q_(proj"] = 4 }), "rank_pattern", "\"q_(proj\" is not a valid regular expression");
        yield return Case("AlphaPatternNull", Lora(o => o["alpha_pattern"] = new JsonObject { ["q_proj"] = null }), "alpha_pattern", "must map to a number, found null");
        yield return Case("AlphaPatternBadRegex", Lora(o => o["alpha_pattern"] = new JsonObject { ["*q"] = 4 }), "alpha_pattern", "not a valid regular expression");
        yield return Case("Dora", Lora(o => o["use_dora"] = true), "use_dora", "DoRA adapters are not supported");
        yield return Case("DoraNotBool", Lora(o => o["use_dora"] = "false"), "use_dora", "must be true or false");
        yield return Case("RsLoraNotBool", Lora(o => o["use_rslora"] = 1), "use_rslora", "must be true or false");
        yield return Case("FanInFanOutNotBool", Lora(o => o["fan_in_fan_out"] = "true"), "fan_in_fan_out", "must be true or false");
        yield return Case("BiasUnknown", Lora(o => o["bias"] = "some"), "bias", "must be \"none\", \"all\" or \"lora_only\"");
        yield return Case("LayersNegative", Lora(o => o["layers_to_transform"] = new JsonArray(0, -1)), "layers_to_transform", "item 1 must be a non-negative integer");
        yield return Case("LayersString", Lora(o => o["layers_to_transform"] = "0"), "layers_to_transform", "must be a layer index");
        yield return Case("LayersWithRegexTarget", Lora(o => { o["target_modules"] = ".*q_proj"; o["layers_to_transform"] = 1; }), "layers_to_transform", "cannot be used when target_modules is a regular expression");
        yield return Case("LayersPatternWithRegexTarget", Lora(o => { o["target_modules"] = ".*q_proj"; o["layers_pattern"] = "layers"; }), "layers_pattern", "cannot be used when target_modules is a regular expression");
        yield return Case("LayersPatternNumber", Lora(o => o["layers_pattern"] = 3), "layers_pattern", "must be a string, a list of strings or null");
        yield return Case("ModulesToSaveString", Lora(o => o["modules_to_save"] = "score"), "modules_to_save", "must be a list of module names or null");
        yield return Case("TaskTypeNumber", Lora(o => o["task_type"] = 1), "task_type", "must be a string or null");
        yield return Case("BaseModelList", Lora(o => o["base_model_name_or_path"] = new JsonArray()), "base_model_name_or_path", "must be a string or null");
        yield return Case("InitPissa", Lora(o => o["init_lora_weights"] = "pissa_niter_4"), "init_lora_weights", "path_initial_model_for_weight_conversion");
        yield return Case("InitOlora", Lora(o => o["init_lora_weights"] = "olora"), "init_lora_weights", "cannot be added to the original base");
        yield return Case("InitNumber", Lora(o => o["init_lora_weights"] = 1), "init_lora_weights", "must be true, false or a method name");
        yield return Case("QaLora", Lora(o => o["use_qalora"] = true), "use_qalora", "not supported");
        yield return Case("LayerReplication", Lora(o => o["layer_replication"] = new JsonArray(new JsonArray(0, 4))), "layer_replication", "layer structure");
        yield return Case("TargetParameters", Lora(o => o["target_parameters"] = new JsonArray("experts.w1")), "target_parameters", "not supported");
        yield return Case("TrainableTokens", Lora(o => o["trainable_token_indices"] = new JsonArray(1, 2)), "trainable_token_indices", "not supported");
        yield return Case("ActivatedLora", Lora(o => o["alora_invocation_tokens"] = new JsonArray(5)), "alora_invocation_tokens", "cannot be merged");
        yield return Case("Ia3FeedforwardNotSubset", Ia3(o => o["feedforward_modules"] = new JsonArray("up_proj")), "feedforward_modules", "must be a subset of target_modules; not in target_modules: up_proj");
        yield return Case("Ia3FeedforwardNumber", Ia3(o => o["feedforward_modules"] = 7), "feedforward_modules", "list of module names or a regular expression");
        yield return Case("Ia3InitNotBool", Ia3(o => o["init_ia3_weights"] = "yes"), "init_ia3_weights", "must be true or false");
        yield return Case("Ia3TargetsMissing", Ia3(o => o["target_modules"] = null), "target_modules", "missing or null");
    }

    [TestCaseSource(nameof(Cases))]
    public void Refused_WithKeyAndReason(string json, string? key, string fragment)
    {
        var e = Assert.Throws<AdapterFormatException>(() => AdapterConfig.Parse(json, File))!;
        Assert.That(e.FilePath, Is.EqualTo(File));
        Assert.That(e.Key, Is.EqualTo(key), e.Message);
        Assert.That(e.Message, Does.StartWith(File + ":"));
        if (key is not null)
            Assert.That(e.Message, Does.Contain($"'{key}'"));
        Assert.That(e.Message, Does.Contain(fragment));
    }

    [Test]
    public void Cases_AreAtLeastFifteen() => Assert.That(Cases().Count(), Is.GreaterThanOrEqualTo(15));

    [Test]
    public void Dora_MessageSaysWhatToDo()
    {
        var e = Assert.Throws<AdapterFormatException>(() => AdapterConfig.Parse(Lora(o => o["use_dora"] = true), File))!;
        Assert.That(e.Message, Does.Contain("merge_and_unload").And.Contain("plain LoRA"));
    }

    [Test]
    public void NullText_IsAFormatError() =>
        Assert.Throws<AdapterFormatException>(() => AdapterConfig.Parse(null!, File));

    [Test]
    public void DeepNesting_IsAFormatError()
    {
        string deep = "{\"peft_type\": \"LORA\", \"x\": " + new string('[', 10_000) + new string(']', 10_000) + "}";
        Assert.Throws<AdapterFormatException>(() => AdapterConfig.Parse(deep, File));
    }

    [Test]
    public void Tolerated_DisabledFeaturesAndUnknownFields()
    {
        // Off switches written by PEFT (null, false, empty lists) and fields from newer PEFT versions load.
        var c = AdapterConfig.Parse(Lora(o =>
        {
            o["layer_replication"] = null;
            o["target_parameters"] = new JsonArray();
            o["trainable_token_indices"] = null;
            o["use_qalora"] = false;
            o["init_lora_weights"] = "gaussian";
            o["some_future_field"] = new JsonObject { ["x"] = 1 };
            o["layers_pattern"] = "layers";
        }), File);
        Assert.That(c.InitLoraWeights, Is.EqualTo("gaussian"));
        Assert.That(c.ContainsKey("some_future_field"), Is.True);
    }
}
