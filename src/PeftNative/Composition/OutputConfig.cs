using System.Text;
using System.Text.Json.Nodes;
using PeftNative.Adapters;

namespace PeftNative.Composition;

/// <summary>The rank and alpha one composed LoRA module needs in the output config.</summary>
internal readonly record struct ModuleScaling(string Path, int Rank, double Alpha);

/// <summary>
/// Builds the output adapter_config.json the way PEFT's add_weighted_adapter does — a copy of the
/// first adapter's config (unknown fields kept), target_modules the union of the inputs' (names
/// as a set, regexes as <c>(re1)|(re2)</c>), <c>inference_mode</c> true — with the ranks and
/// alphas the composed modules really have. When the first adapter's r, lora_alpha and patterns
/// already give every module its rank and alpha they are kept; otherwise <c>r</c> and
/// <c>lora_alpha</c> are the values most modules share, and every module that differs gets a
/// <c>rank_pattern</c> / <c>alpha_pattern</c> entry keyed by its escaped full path (PEFT matches keys
/// with <c>(.*\.)?(key)$</c>). PEFT clears the patterns and so loses per-module ranks
/// (huggingface/peft#3737).
/// </summary>
internal static class OutputConfig
{
    /// <summary>Label of configs built here, used in validation messages.</summary>
    public const string Origin = "(composed adapter config)";

    /// <summary>The LoRA config for <paramref name="modules"/>.</summary>
    public static AdapterConfig Lora(TargetAlignment inputs, IReadOnlyList<ModuleScaling> modules, bool useRsLora)
    {
        var json = Common(inputs);
        json["use_rslora"] = useRsLora;
        // When the first adapter's own r, lora_alpha and patterns already describe every module (the
        // paper method with kept scalings), keep them as written.
        if (TryBuild(json) is { } kept && modules.All(m => kept.Targets(m.Path) && kept.RankFor(m.Path) == m.Rank && kept.AlphaFor(m.Path) == m.Alpha))
            return kept;
        int r = MostCommon(modules.Select(m => m.Rank), inputs.First.Config.R);
        double alpha = MostCommon(modules.Select(m => m.Alpha), inputs.First.Config.LoraAlpha);
        json["r"] = r;
        json["lora_alpha"] = Number(alpha);
        json["use_rslora"] = useRsLora;
        var rankPattern = new JsonObject();
        var alphaPattern = new JsonObject();
        foreach (var m in modules)
        {
            if (m.Rank != r)
                rankPattern[PatternKey(m.Path)] = m.Rank;
            if (m.Alpha != alpha)
                alphaPattern[PatternKey(m.Path)] = Number(m.Alpha);
        }
        json["rank_pattern"] = rankPattern;
        json["alpha_pattern"] = alphaPattern;
        return Finish(json, modules.Select(m => m.Path).ToList(),
            c => modules.FirstOrDefault(m => !c.Targets(m.Path) || c.RankFor(m.Path) != m.Rank || c.AlphaFor(m.Path) != m.Alpha).Path);
    }

    /// <summary>The (IA)^3 config for <paramref name="modules"/> (feed-forward flags as the inputs have them); feedforward_modules is the union of the inputs'.</summary>
    public static AdapterConfig Ia3(TargetAlignment inputs, IReadOnlyList<(string Path, bool FeedForward)> modules)
    {
        var json = Common(inputs);
        ModuleSelector? ff = null;
        foreach (string name in inputs.AdapterNames)
        {
            var sel = inputs.AdapterNamed(name).Config.FeedforwardModules;
            if (sel is null)
                continue;
            ff = ff is null ? sel : UnionOrNull(ff, sel) ?? ModuleSelector.FromNames(modules.Where(m => m.FeedForward).Select(m => m.Path));
        }
        json["feedforward_modules"] = ff is null ? null : SelectorNode(ff);
        return Finish(json, modules.Select(m => m.Path).ToList(),
            c => modules.FirstOrDefault(m => !c.Targets(m.Path) || c.IsFeedForward(m.Path) != m.FeedForward).Path);
    }

    /// <summary>The first adapter's config with the union of the targets, the first known base model and inference mode.</summary>
    private static JsonObject Common(TargetAlignment inputs)
    {
        var configs = inputs.AdapterNames.Select(n => inputs.AdapterNamed(n).Config).ToList();
        var json = configs[0].ToJsonObject();
        ModuleSelector? targets = configs[0].TargetModules;
        foreach (var c in configs.Skip(1))
            targets = targets is null ? null : UnionOrNull(targets, c.TargetModules);
        // A list mixed with a regex has no PEFT union; the exact module list always works.
        json["target_modules"] = targets is null ? null : SelectorNode(targets);
        if (configs.Select(c => c.BaseModelNameOrPath).FirstOrDefault(b => b is not null) is { } baseModel)
            json["base_model_name_or_path"] = baseModel;
        json["inference_mode"] = true;
        return json;
    }

    /// <summary>
    /// Validates the config and checks every module against it. When the first adapter's
    /// exclude_modules / layers_to_transform / layers_pattern / modules_to_save would keep another
    /// input's module out, or the targets could not be united, those are dropped and target_modules
    /// becomes the exact list of composed modules.
    /// </summary>
    private static AdapterConfig Finish(JsonObject json, List<string> paths, Func<AdapterConfig, string?> firstMisfit)
    {
        if (json["target_modules"] is not null && TryBuild(json) is { } config && firstMisfit(config) is null)
            return config;
        foreach (string key in new[] { "exclude_modules", "layers_to_transform", "layers_pattern", "modules_to_save" })
        {
            if (json.ContainsKey(key))
                json[key] = null;
        }
        json["target_modules"] = new JsonArray([.. paths.Select(p => (JsonNode?)JsonValue.Create(p))]);
        config = TryBuild(json) ?? AdapterConfig.FromJsonObject(json, Origin);
        string? misfit = firstMisfit(config);
        return misfit is null
            ? config
            : throw new InvalidOperationException($"internal error: the composed config does not describe module {misfit}");
    }

    private static AdapterConfig? TryBuild(JsonObject json)
    {
        try
        {
            return AdapterConfig.FromJsonObject(json, Origin);
        }
        catch (AdapterFormatException)
        {
            return null;
        }
    }

    private static ModuleSelector? UnionOrNull(ModuleSelector a, ModuleSelector b)
    {
        try
        {
            return a.Union(b);
        }
        catch (ArgumentException)
        {
            return null;
        }
    }

    private static JsonNode SelectorNode(ModuleSelector s) =>
        s.Pattern is { } p ? JsonValue.Create(p) : new JsonArray([.. s.Names!.Select(n => (JsonNode?)JsonValue.Create(n))]);

    /// <summary>The most frequent value (ties: <paramref name="preferred"/> when it is among them, else the first seen).</summary>
    private static T MostCommon<T>(IEnumerable<T> values, T preferred) where T : IEquatable<T>
    {
        var counts = new List<(T Value, int Count)>();
        foreach (var v in values)
        {
            int i = counts.FindIndex(c => c.Value.Equals(v));
            if (i < 0)
                counts.Add((v, 1));
            else
                counts[i] = (v, counts[i].Count + 1);
        }
        if (counts.Count == 0)
            return preferred;
        int best = counts.Max(c => c.Count);
        var tied = counts.Where(c => c.Count == best).Select(c => c.Value).ToList();
        return tied.Contains(preferred) ? preferred : tied[0];
    }

    /// <summary>Integral alphas as JSON integers (as PEFT configs carry them), others as floats.</summary>
    private static JsonValue Number(double value) =>
        Math.Abs(value) < 9007199254740992.0 && value == Math.Floor(value) ? JsonValue.Create((long)value) : JsonValue.Create(value);

    /// <summary>The module path as a Python regex matching exactly it (every character but letters, digits and '_' escaped).</summary>
    internal static string PatternKey(string path)
    {
        var sb = new StringBuilder(path.Length + 8);
        foreach (char c in path)
        {
            if (!char.IsAsciiLetterOrDigit(c) && c != '_')
                sb.Append('\\');
            sb.Append(c);
        }
        return sb.ToString();
    }
}
