using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace PeftNative.Adapters;

public sealed partial class AdapterConfig
{
    // PEFT methods other than LoRA and (IA)^3 (src/peft/utils/peft_types.py), for a precise refusal.
    private static readonly HashSet<string> OtherPeftTypes = new(StringComparer.Ordinal)
    {
        "PROMPT_TUNING", "MULTITASK_PROMPT_TUNING", "P_TUNING", "PREFIX_TUNING", "ADALORA", "BOFT", "ADAPTION_PROMPT",
        "LOHA", "LOKR", "OFT", "POLY", "LN_TUNING", "VERA", "FOURIERFT", "XLORA", "HRA", "VBLORA", "CPT", "BONE",
        "RANDLORA", "SHIRA", "C3A", "ROAD", "WAVEFT", "DELORA", "OSF", "MISS", "GRALORA", "TRAINABLE_TOKENS",
    };

    // init_lora_weights methods that change the base weights at initialisation: the saved adapter is
    // relative to that modified base, so adding it to the original base is wrong.
    private static readonly string[] BaseModifyingInits = ["pissa", "olora", "corda", "loftq", "lora_ga"];

    /// <summary>
    /// Parses and validates a config. Throws only <see cref="AdapterFormatException"/> for any input
    /// text; the message names <paramref name="filePath"/> and the offending key.
    /// </summary>
    /// <exception cref="AdapterFormatException">Invalid JSON, a missing or mistyped field, or an unsupported method or feature.</exception>
    public static AdapterConfig Parse(string json, string filePath)
    {
        ArgumentNullException.ThrowIfNull(filePath);
        if (json is null)
            throw new AdapterFormatException(filePath, null, "no text (null)");
        JsonNode? root;
        try
        {
            root = PythonJson.Parse(json);
        }
        catch (JsonException e)
        {
            throw new AdapterFormatException(filePath, null, $"not valid JSON: {e.Message}", e);
        }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException or FormatException or OverflowException or InsufficientExecutionStackException)
        {
            throw new AdapterFormatException(filePath, null, $"not valid JSON: {e.Message}", e);
        }
        if (root is not JsonObject obj)
            throw new AdapterFormatException(filePath, null, $"must hold a JSON object, found {Describe(root)}");
        return new AdapterConfig(obj, Validate(obj, filePath), filePath);
    }

    private static ConfigState Validate(JsonObject obj, string file)
    {
        try
        {
            return ValidateCore(new FieldReader(obj, file));
        }
        catch (RegexMatchTimeoutException e)
        {
            throw new AdapterFormatException(file, null, $"a regular expression took too long: {e.Message}", e);
        }
        catch (Exception e) when (e is InvalidOperationException or FormatException or OverflowException or InsufficientExecutionStackException)
        {
            // Backstop: every check above is explicit, but the contract is "only AdapterFormatException".
            throw new AdapterFormatException(file, null, $"cannot be read: {e.Message}", e);
        }
    }

    private static ConfigState ValidateCore(FieldReader r)
    {
        string file = r.File;
        var peftTypeNode = r.Get("peft_type");
        if (!r.Has("peft_type") || peftTypeNode is null)
            throw new AdapterFormatException(file, "peft_type", "missing: every PEFT adapter_config.json names its method (\"LORA\" or \"IA3\")");
        if (peftTypeNode.GetValueKind() != JsonValueKind.String)
            throw new AdapterFormatException(file, "peft_type", $"must be a string such as \"LORA\", found {Describe(peftTypeNode)}");
        string peftTypeName = peftTypeNode.GetValue<string>();
        PeftType peftType = peftTypeName switch
        {
            "LORA" => PeftType.Lora,
            "IA3" => PeftType.Ia3,
            _ when OtherPeftTypes.Contains(peftTypeName) => throw new AdapterFormatException(file, "peft_type",
                $"\"{peftTypeName}\" adapters are not supported: PeftNative composes LORA and IA3 adapters only " +
                "(merge this adapter into its base model with PEFT instead)"),
            _ => throw new AdapterFormatException(file, "peft_type",
                $"unknown PEFT method \"{Truncate(peftTypeName)}\" (supported: \"LORA\", \"IA3\")"),
        };

        var targets = r.Selector("target_modules")
            ?? throw new AdapterFormatException(file, "target_modules",
                "missing or null: PEFT writes the resolved target modules into a saved adapter, so this config cannot say which modules carry weights");
        if (!targets.IsRegex && targets.Names!.Count == 0)
            throw new AdapterFormatException(file, "target_modules", "is an empty list: the adapter targets no module");
        var modulesToSave = r.StringList("modules_to_save");
        var state = new ConfigState
        {
            PeftType = peftType,
            TaskType = r.OptionalString("task_type"),
            BaseModelNameOrPath = r.OptionalString("base_model_name_or_path"),
            Revision = r.OptionalString("revision"),
            InferenceMode = r.Bool("inference_mode", false),
            TargetModules = targets,
            ExcludeModules = r.Selector("exclude_modules"),
            ModulesToSave = modulesToSave,
            // PEFT keeps adapters off modules_to_save: re.match(rf"(^|.*\.){m}($|\..*)", key) (tuners_utils.check_target_module_exists).
            ModulesToSaveRegexes = modulesToSave?.Select(m => r.Regex("modules_to_save", m, () => PythonRegex.MatchAtStart(@"(^|.*\.)", m, @"($|\..*)"))).ToArray() ?? [],
            FanInFanOut = r.Bool("fan_in_fan_out", false),
        };

        if (peftType == PeftType.Lora)
        {
            state.Lora = ValidateLora(r, targets);
        }
        else
        {
            state.FeedforwardModules = r.Selector("feedforward_modules");
            state.InitIa3Weights = r.Bool("init_ia3_weights", true);
            // IA3Config.__post_init__: feedforward_modules must be a subset of target_modules (both lists).
            if (state.FeedforwardModules is { IsRegex: false } ff && !targets.IsRegex)
            {
                var missing = ff.Names!.Except(targets.Names!, StringComparer.Ordinal).ToArray();
                if (missing.Length > 0)
                    throw new AdapterFormatException(file, "feedforward_modules",
                        $"must be a subset of target_modules; not in target_modules: {string.Join(", ", missing)}");
            }
        }
        return state;
    }

    private static LoraState ValidateLora(FieldReader r, ModuleSelector targets)
    {
        string file = r.File;
        if (r.Bool("use_dora", false))
            throw new AdapterFormatException(file, "use_dora",
                "DoRA adapters are not supported (their magnitude vector makes the update non-linear in A and B). " +
                "Merge the adapter into its base model with PEFT (merge_and_unload), or train a plain LoRA (use_dora=false)");
        string init = r.InitLoraWeights();
        foreach (string method in BaseModifyingInits)
        {
            if (init.StartsWith(method, StringComparison.OrdinalIgnoreCase))
                throw new AdapterFormatException(file, "init_lora_weights",
                    $"\"{Truncate(init)}\" adapters are relative to a base model that {method} modified at initialisation, so they cannot be " +
                    "added to the original base. Convert it with PEFT first: save_pretrained(..., path_initial_model_for_weight_conversion=...) " +
                    "writes an equivalent plain LoRA");
        }
        if (r.Bool("use_qalora", false))
            throw new AdapterFormatException(file, "use_qalora", "QA-LoRA adapters (pooled inputs) are not supported");
        r.RefuseIfSet("layer_replication", "layer replication changes the model's layer structure, which PeftNative does not reproduce");
        r.RefuseIfSet("target_parameters", "LoRA on bare parameters (target_parameters) is not supported; only modules");
        r.RefuseIfSet("trainable_token_indices", "trainable token deltas are not supported");
        r.RefuseIfSet("alora_invocation_tokens", "activated LoRA (aLoRA) applies only after its invocation tokens, so it cannot be merged into weights");
        r.RefuseIfSet("arrow_config", "Arrow routing between LoRA experts is not supported");

        int rank = r.PositiveInt("r", 8);
        var layersToTransform = r.LayersToTransform();
        var layersPattern = r.StringOrStringList("layers_pattern");
        // LoraConfig.__post_init__ refuses layer selection together with a regex target.
        if (targets.IsRegex && layersToTransform is not null)
            throw new AdapterFormatException(file, "layers_to_transform", "cannot be used when target_modules is a regular expression (PEFT refuses this too)");
        if (targets.IsRegex && layersPattern is not null)
            throw new AdapterFormatException(file, "layers_pattern", "cannot be used when target_modules is a regular expression (PEFT refuses this too)");

        return new LoraState
        {
            R = rank,
            LoraAlpha = r.Number("lora_alpha", 8),
            UseRsLora = r.Bool("use_rslora", false),
            RankPattern = r.Pattern("rank_pattern", positiveInt: true, v => (int)v),
            AlphaPattern = r.Pattern("alpha_pattern", positiveInt: false, v => v),
            Bias = r.Bias(),
            LoraBias = r.Bool("lora_bias", false),
            LayersToTransform = layersToTransform,
            LayersPattern = layersPattern,
            // re.match(r".*\.[^.]*\.(\d+)\.", key) without a pattern, re.match(rf".*\.{pattern}\.(\d+)\.", key) with one.
            LayerRegexes = layersPattern is { Count: > 0 }
                ? [.. layersPattern.Select(p => r.Regex("layers_pattern", p, () => PythonRegex.MatchAtStart(@".*\.", p, @"\.(\d+)\.")))]
                : [PythonRegex.MatchAtStart("", @".*\.[^.]*\.(\d+)\.", "")],
            UseDora = false,
            InitLoraWeights = init,
            LoraDropout = r.Number("lora_dropout", 0),
        };
    }

    private static string Describe(JsonNode? node)
    {
        if (node is null)
            return "null";
        return node.GetValueKind() switch
        {
            JsonValueKind.Object => "an object",
            JsonValueKind.Array => "a list",
            JsonValueKind.String => $"the string \"{Truncate(node.GetValue<string>())}\"",
            JsonValueKind.Number => $"the number {Truncate(node.ToJsonString())}",
            JsonValueKind.True => "true",
            JsonValueKind.False => "false",
            _ => "null",
        };
    }

    private static string Truncate(string s) => s.Length <= 80 ? s : string.Concat(s.AsSpan(0, 77), "...");

    /// <summary>Typed reads of one config object; every failure is an <see cref="AdapterFormatException"/> naming the key.</summary>
    private sealed class FieldReader(JsonObject obj, string file)
    {
        public string File { get; } = file;

        public bool Has(string key) => obj.ContainsKey(key);

        public JsonNode? Get(string key) => obj.TryGetPropertyValue(key, out var n) ? n : null;

        private AdapterFormatException Error(string key, string problem) => new(File, key, problem);

        public bool Bool(string key, bool fallback)
        {
            var n = Get(key);
            if (n is null)
                return fallback; // absent or null: PEFT's default
            return n.GetValueKind() switch
            {
                JsonValueKind.True => true,
                JsonValueKind.False => false,
                _ => throw Error(key, $"must be true or false, found {Describe(n)}"),
            };
        }

        public string? OptionalString(string key)
        {
            var n = Get(key);
            if (n is null)
                return null;
            if (n.GetValueKind() != JsonValueKind.String)
                throw Error(key, $"must be a string or null, found {Describe(n)}");
            return n.GetValue<string>();
        }

        public double Number(string key, double fallback)
        {
            var n = Get(key);
            if (n is null)
                return fallback;
            if (n.GetValueKind() != JsonValueKind.Number)
                throw Error(key, $"must be a number, found {Describe(n)}");
            double v = double.Parse(n.ToJsonString(), NumberStyles.Float, CultureInfo.InvariantCulture);
            if (!double.IsFinite(v))
                throw Error(key, $"must be a finite number, found {Describe(n)}");
            return v;
        }

        public int PositiveInt(string key, int fallback)
        {
            var n = Get(key);
            if (n is null)
                return fallback;
            return PositiveInt(key, n, "");
        }

        private int PositiveInt(string key, JsonNode n, string where)
        {
            if (n.GetValueKind() == JsonValueKind.Number && IsIntegerText(n.ToJsonString(), out long v) && v > 0 && v <= int.MaxValue)
                return (int)v;
            throw Error(key, $"{where}must be a positive integer, found {Describe(n)}");
        }

        public ModuleSelector? Selector(string key)
        {
            var n = Get(key);
            if (n is null)
                return null;
            switch (n.GetValueKind())
            {
                case JsonValueKind.String:
                    string pattern = n.GetValue<string>();
                    return Regex(key, pattern, () => ModuleSelector.FromRegex(pattern));
                case JsonValueKind.Array:
                    return ModuleSelector.FromNames(Strings(key, (JsonArray)n));
                default:
                    throw Error(key, $"must be a list of module names or a regular expression string, found {Describe(n)}");
            }
        }

        public IReadOnlyList<string>? StringList(string key)
        {
            var n = Get(key);
            if (n is null)
                return null;
            if (n is not JsonArray arr)
                throw Error(key, $"must be a list of module names or null, found {Describe(n)}");
            return Strings(key, arr);
        }

        public IReadOnlyList<string>? StringOrStringList(string key)
        {
            var n = Get(key);
            if (n is null)
                return null;
            if (n.GetValueKind() == JsonValueKind.String)
                return [n.GetValue<string>()];
            if (n is JsonArray arr)
                return Strings(key, arr);
            throw Error(key, $"must be a string, a list of strings or null, found {Describe(n)}");
        }

        private string[] Strings(string key, JsonArray arr)
        {
            var list = new string[arr.Count];
            for (int i = 0; i < arr.Count; i++)
            {
                var item = arr[i];
                if (item is null || item.GetValueKind() != JsonValueKind.String)
                    throw Error(key, $"item {i} must be a string, found {Describe(item)}");
                list[i] = item.GetValue<string>();
                if (list[i].Length == 0)
                    throw Error(key, $"item {i} is an empty string");
            }
            return list;
        }

        public IReadOnlyList<int>? LayersToTransform()
        {
            const string key = "layers_to_transform";
            var n = Get(key);
            if (n is null)
                return null;
            if (n.GetValueKind() == JsonValueKind.Number)
                return [LayerIndex(key, n, "")];
            if (n is not JsonArray arr)
                throw Error(key, $"must be a layer index, a list of layer indices or null, found {Describe(n)}");
            var list = new int[arr.Count];
            for (int i = 0; i < arr.Count; i++)
                list[i] = arr[i] is { } item ? LayerIndex(key, item, $"item {i} ") : throw Error(key, $"item {i} must be a layer index, found null");
            return list;
        }

        private int LayerIndex(string key, JsonNode n, string where)
        {
            if (n.GetValueKind() == JsonValueKind.Number && IsIntegerText(n.ToJsonString(), out long v) && v >= 0 && v <= int.MaxValue)
                return (int)v;
            throw Error(key, $"{where}must be a non-negative integer layer index, found {Describe(n)}");
        }

        public PatternList<T> Pattern<T>(string key, bool positiveInt, Func<double, T> convert)
        {
            var n = Get(key);
            if (n is null)
                return PatternList<T>.Empty;
            if (n is not JsonObject patterns)
                throw Error(key, $"must be an object mapping module-name patterns to {(positiveInt ? "ranks" : "alphas")}, found {Describe(n)}");
            var entries = new List<PatternEntry<T>>(patterns.Count);
            foreach (var (pattern, valueNode) in patterns)
            {
                double value;
                if (valueNode is null || valueNode.GetValueKind() != JsonValueKind.Number)
                    throw Error(key, $"pattern \"{Truncate(pattern)}\" must map to a number, found {Describe(valueNode)}");
                if (positiveInt)
                {
                    value = PositiveInt(key, valueNode, $"pattern \"{Truncate(pattern)}\" ");
                }
                else
                {
                    value = double.Parse(valueNode.ToJsonString(), NumberStyles.Float, CultureInfo.InvariantCulture);
                    if (!double.IsFinite(value))
                        throw Error(key, $"pattern \"{Truncate(pattern)}\" must map to a finite number, found {Describe(valueNode)}");
                }
                // get_pattern_key (src/peft/utils/other.py): re.match(rf"(.*\.)?({key})$", module_name).
                var regex = Regex(key, pattern, () => PythonRegex.MatchAtStart(@"(.*\.)?(", pattern, ")$"));
                entries.Add(new PatternEntry<T>(pattern, regex, convert(value)));
            }
            return new PatternList<T>(entries);
        }

        public LoraBiasMode Bias()
        {
            var n = Get("bias");
            if (n is null)
                return LoraBiasMode.None;
            string? s = n.GetValueKind() == JsonValueKind.String ? n.GetValue<string>() : null;
            return s switch
            {
                "none" => LoraBiasMode.None,
                "all" => LoraBiasMode.All,
                "lora_only" => LoraBiasMode.LoraOnly,
                _ => throw Error("bias", $"must be \"none\", \"all\" or \"lora_only\", found {Describe(n)}"),
            };
        }

        public string InitLoraWeights()
        {
            var n = Get("init_lora_weights");
            if (n is null)
                return "true";
            return n.GetValueKind() switch
            {
                JsonValueKind.True => "true",
                JsonValueKind.False => "false",
                JsonValueKind.String => n.GetValue<string>(),
                _ => throw Error("init_lora_weights", $"must be true, false or a method name, found {Describe(n)}"),
            };
        }

        /// <summary>Refuses a feature that is on: any value but null, false, an empty list or an empty object.</summary>
        public void RefuseIfSet(string key, string why)
        {
            var n = Get(key);
            bool set = n switch
            {
                null => false,
                JsonArray a => a.Count > 0,
                JsonObject o => o.Count > 0,
                _ => n.GetValueKind() != JsonValueKind.False,
            };
            if (set)
                throw Error(key, $"is set ({Describe(n)}): {why}");
        }

        /// <summary>Compiles a config regex, turning .NET's complaint into a message naming the key.</summary>
        public TResult Regex<TResult>(string key, string pattern, Func<TResult> compile)
        {
            try
            {
                return compile();
            }
            catch (ArgumentException e)
            {
                throw Error(key, $"\"{Truncate(pattern)}\" is not a valid regular expression: {e.Message}");
            }
        }

        private static bool IsIntegerText(string text, out long value)
        {
            value = 0;
            return text.AsSpan().IndexOfAny(".eE") < 0 && long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out value);
        }
    }
}
