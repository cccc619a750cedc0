using System.Text.Json.Nodes;

namespace PeftNative.Adapters;

/// <summary>
/// adapter_config.json of a PEFT LoRA or (IA)^3 adapter. The config is kept as the JSON object it
/// was read from, so fields this library does not know survive a round trip; the fields that
/// matter are validated once and exposed typed. <see cref="ToJson"/> writes PEFT's own layout
/// (<c>json.dumps(config, indent=2, sort_keys=True)</c>, src/peft/config.py save_pretrained), so a
/// config written back unchanged is byte-identical to what PEFT wrote.
/// Setters validate like the parser and throw <see cref="ArgumentException"/> for bad values.
/// </summary>
public sealed partial class AdapterConfig
{
    /// <summary>The file name PEFT uses.</summary>
    public const string FileName = "adapter_config.json";

    private JsonObject _json;
    private ConfigState _state;

    private AdapterConfig(JsonObject json, ConfigState state, string filePath)
    {
        _json = json;
        _state = state;
        FilePath = filePath;
    }

    /// <summary>Where the config came from (used in messages); "(in memory)" for created configs.</summary>
    public string FilePath { get; }

    /// <summary>The method (<c>peft_type</c>).</summary>
    public PeftType PeftType => _state.PeftType;

    /// <summary><c>task_type</c> ("CAUSAL_LM", ...), or null.</summary>
    public string? TaskType => _state.TaskType;

    /// <summary><c>base_model_name_or_path</c>, or null.</summary>
    public string? BaseModelNameOrPath
    {
        get => _state.BaseModelNameOrPath;
        set => Mutate("base_model_name_or_path", value is null ? null : JsonValue.Create(value), nameof(value));
    }

    /// <summary><c>revision</c> of the base model, or null.</summary>
    public string? Revision => _state.Revision;

    /// <summary><c>inference_mode</c>.</summary>
    public bool InferenceMode => _state.InferenceMode;

    /// <summary><c>target_modules</c>: which modules carry the adapter (see <see cref="Targets"/>).</summary>
    public ModuleSelector TargetModules
    {
        get => _state.TargetModules;
        set => Mutate("target_modules", SelectorNode(value ?? throw new ArgumentNullException(nameof(value))), nameof(value));
    }

    /// <summary><c>exclude_modules</c>, or null.</summary>
    public ModuleSelector? ExcludeModules => _state.ExcludeModules;

    /// <summary><c>modules_to_save</c>: modules saved whole beside the adapter (classifier heads, ...), or null.</summary>
    public IReadOnlyList<string>? ModulesToSave => _state.ModulesToSave;

    /// <summary><c>fan_in_fan_out</c>: the targets store W as [in, out] (GPT-2 Conv1D), so the update is transposed.</summary>
    public bool FanInFanOut => _state.FanInFanOut;

    /// <summary>LoRA <c>r</c>: the default rank (<see cref="RankPattern"/> overrides it per module).</summary>
    /// <exception cref="InvalidOperationException">Not a LoRA config.</exception>
    public int R
    {
        get => Lora().R;
        set
        {
            Lora();
            if (value <= 0)
                throw new ArgumentOutOfRangeException(nameof(value), value, "r must be a positive integer");
            Mutate("r", JsonValue.Create(value), nameof(value));
        }
    }

    /// <summary>LoRA <c>lora_alpha</c>: the default alpha (<see cref="AlphaPattern"/> overrides it per module).</summary>
    /// <exception cref="InvalidOperationException">Not a LoRA config.</exception>
    public double LoraAlpha
    {
        get => Lora().LoraAlpha;
        set
        {
            Lora();
            Mutate("lora_alpha", NumberNode(value, nameof(value)), nameof(value));
        }
    }

    /// <summary>LoRA <c>use_rslora</c>: scaling is alpha / sqrt(r) instead of alpha / r.</summary>
    /// <exception cref="InvalidOperationException">Not a LoRA config.</exception>
    public bool UseRsLora
    {
        get => Lora().UseRsLora;
        set
        {
            Lora();
            Mutate("use_rslora", JsonValue.Create(value), nameof(value));
        }
    }

    /// <summary>
    /// LoRA <c>rank_pattern</c>: module-name regexes → rank, in file order (the first match wins;
    /// see <see cref="RankFor"/>). Empty when absent.
    /// </summary>
    /// <exception cref="InvalidOperationException">Not a LoRA config.</exception>
    public IReadOnlyDictionary<string, int> RankPattern
    {
        get => Lora().RankPattern.AsDictionary();
        set
        {
            ArgumentNullException.ThrowIfNull(value);
            Lora();
            var obj = new JsonObject();
            foreach (var kv in value)
                obj[kv.Key] = JsonValue.Create(kv.Value);
            Mutate("rank_pattern", obj, nameof(value));
        }
    }

    /// <summary>LoRA <c>alpha_pattern</c>: module-name regexes → alpha, in file order (first match wins). Empty when absent.</summary>
    /// <exception cref="InvalidOperationException">Not a LoRA config.</exception>
    public IReadOnlyDictionary<string, double> AlphaPattern
    {
        get => Lora().AlphaPattern.AsDictionary();
        set
        {
            ArgumentNullException.ThrowIfNull(value);
            Lora();
            var obj = new JsonObject();
            foreach (var kv in value)
                obj[kv.Key] = NumberNode(kv.Value, nameof(value));
            Mutate("alpha_pattern", obj, nameof(value));
        }
    }

    /// <summary>LoRA <c>bias</c>.</summary>
    /// <exception cref="InvalidOperationException">Not a LoRA config.</exception>
    public LoraBiasMode Bias => Lora().Bias;

    /// <summary>LoRA <c>lora_bias</c>: lora_B has a bias vector (saved as <c>lora_B.bias</c>).</summary>
    /// <exception cref="InvalidOperationException">Not a LoRA config.</exception>
    public bool LoraBias => Lora().LoraBias;

    /// <summary>LoRA <c>layers_to_transform</c> (an int is read as a one-element list), or null.</summary>
    /// <exception cref="InvalidOperationException">Not a LoRA config.</exception>
    public IReadOnlyList<int>? LayersToTransform => Lora().LayersToTransform;

    /// <summary>LoRA <c>layers_pattern</c> (a string is read as a one-element list), or null.</summary>
    /// <exception cref="InvalidOperationException">Not a LoRA config.</exception>
    public IReadOnlyList<string>? LayersPattern => Lora().LayersPattern;

    /// <summary>LoRA <c>use_dora</c> (always false: DoRA configs are refused at load).</summary>
    /// <exception cref="InvalidOperationException">Not a LoRA config.</exception>
    public bool UseDora => Lora().UseDora;

    /// <summary>LoRA <c>init_lora_weights</c> as text: "true", "false", or the method name ("gaussian", "eva", ...).</summary>
    /// <exception cref="InvalidOperationException">Not a LoRA config.</exception>
    public string InitLoraWeights => Lora().InitLoraWeights;

    /// <summary>LoRA <c>lora_dropout</c> (training only; kept for the round trip).</summary>
    /// <exception cref="InvalidOperationException">Not a LoRA config.</exception>
    public double LoraDropout => Lora().LoraDropout;

    /// <summary>
    /// (IA)^3 <c>feedforward_modules</c>: modules whose vector scales the input features (see
    /// <see cref="IsFeedForward"/>). Null when absent, and always null for LoRA.
    /// </summary>
    /// <exception cref="InvalidOperationException">Setting it on a LoRA config.</exception>
    public ModuleSelector? FeedforwardModules
    {
        get => _state.FeedforwardModules;
        set
        {
            if (PeftType != PeftType.Ia3)
                throw new InvalidOperationException($"{FilePath}: feedforward_modules belongs to IA3 configs, this one is {PeftTypeName}");
            Mutate("feedforward_modules", value is null ? null : SelectorNode(value), nameof(value));
        }
    }

    /// <summary>(IA)^3 <c>init_ia3_weights</c> (true when absent).</summary>
    public bool InitIa3Weights => _state.InitIa3Weights;

    /// <summary>Every key in the file, known or not, in file order.</summary>
    public IEnumerable<string> Keys => _json.Select(kv => kv.Key).ToArray();

    /// <summary>A copy of one field's raw JSON (null when absent or JSON null).</summary>
    public JsonNode? GetRaw(string key)
    {
        ArgumentNullException.ThrowIfNull(key);
        return _json.TryGetPropertyValue(key, out var node) ? node?.DeepClone() : null;
    }

    /// <summary>True when the file has that key (even with a null value).</summary>
    public bool ContainsKey(string key) => _json.ContainsKey(key);

    /// <summary>A deep copy of the whole config as JSON.</summary>
    public JsonObject ToJsonObject() => (JsonObject)_json.DeepClone();

    /// <summary>The config in PEFT's layout: <c>json.dumps(config, indent=2, sort_keys=True)</c>, no trailing newline.</summary>
    public string ToJson() => PythonJson.Serialize(_json);

    /// <summary>An independent copy (setters on one do not affect the other).</summary>
    public AdapterConfig Clone() => new((JsonObject)_json.DeepClone(), _state, FilePath);

    /// <summary>Reads and validates a config file.</summary>
    /// <exception cref="FileNotFoundException">No such file.</exception>
    /// <exception cref="AdapterFormatException">The file is not a valid LoRA or (IA)^3 config; the message names the file and key.</exception>
    public static AdapterConfig Load(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (!File.Exists(path))
            throw new FileNotFoundException($"adapter config not found: {path}", path);
        return Parse(File.ReadAllText(path), path);
    }

    /// <summary>Validates a JSON object as a config (the object is copied).</summary>
    /// <exception cref="AdapterFormatException">Not a valid LoRA or (IA)^3 config.</exception>
    public static AdapterConfig FromJsonObject(JsonObject json, string filePath)
    {
        ArgumentNullException.ThrowIfNull(json);
        ArgumentNullException.ThrowIfNull(filePath);
        var copy = (JsonObject)json.DeepClone();
        return new AdapterConfig(copy, Validate(copy, filePath), filePath);
    }

    /// <summary>
    /// A new LoRA config with the fields PEFT writes for a plain LoRA (bias "none", no patterns,
    /// inference mode, <c>init_lora_weights</c> true), ready to be saved with an adapter.
    /// </summary>
    /// <exception cref="ArgumentException">r is not positive, alpha is not finite, or a value is invalid.</exception>
    public static AdapterConfig CreateLora(int r, double loraAlpha, ModuleSelector targetModules, bool fanInFanOut = false,
        bool useRsLora = false, string? baseModelNameOrPath = null, string? taskType = "CAUSAL_LM")
    {
        ArgumentNullException.ThrowIfNull(targetModules);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(r);
        var json = new JsonObject
        {
            ["alpha_pattern"] = new JsonObject(),
            ["base_model_name_or_path"] = baseModelNameOrPath,
            ["bias"] = "none",
            ["exclude_modules"] = null,
            ["fan_in_fan_out"] = fanInFanOut,
            ["inference_mode"] = true,
            ["init_lora_weights"] = true,
            ["layers_pattern"] = null,
            ["layers_to_transform"] = null,
            ["lora_alpha"] = NumberNode(loraAlpha, nameof(loraAlpha)),
            ["lora_dropout"] = JsonValue.Create(0.0),
            ["modules_to_save"] = null,
            ["peft_type"] = "LORA",
            ["r"] = r,
            ["rank_pattern"] = new JsonObject(),
            ["revision"] = null,
            ["target_modules"] = SelectorNode(targetModules),
            ["task_type"] = taskType,
            ["use_dora"] = false,
            ["use_rslora"] = useRsLora,
        };
        return FromMemory(json);
    }

    /// <summary>A new (IA)^3 config with the fields PEFT writes.</summary>
    /// <exception cref="ArgumentException">A value is invalid (e.g. feed-forward names outside the targets).</exception>
    public static AdapterConfig CreateIa3(ModuleSelector targetModules, ModuleSelector? feedforwardModules, bool fanInFanOut = false,
        string? baseModelNameOrPath = null, string? taskType = "CAUSAL_LM")
    {
        ArgumentNullException.ThrowIfNull(targetModules);
        var json = new JsonObject
        {
            ["base_model_name_or_path"] = baseModelNameOrPath,
            ["exclude_modules"] = null,
            ["fan_in_fan_out"] = fanInFanOut,
            ["feedforward_modules"] = feedforwardModules is null ? null : SelectorNode(feedforwardModules),
            ["inference_mode"] = true,
            ["init_ia3_weights"] = true,
            ["modules_to_save"] = null,
            ["peft_type"] = "IA3",
            ["revision"] = null,
            ["target_modules"] = SelectorNode(targetModules),
            ["task_type"] = taskType,
        };
        return FromMemory(json);
    }

    private const string InMemory = "(in memory)";

    private string PeftTypeName => PeftType == PeftType.Lora ? "LORA" : "IA3";

    private static AdapterConfig FromMemory(JsonObject json)
    {
        try
        {
            return new AdapterConfig(json, Validate(json, InMemory), InMemory);
        }
        catch (AdapterFormatException e)
        {
            throw new ArgumentException(e.Message, e);
        }
    }

    private LoraState Lora() => _state.Lora
        ?? throw new InvalidOperationException($"{FilePath}: this is an {PeftTypeName} config; the field belongs to LoRA configs");

    /// <summary>Sets one field, re-validates the whole config, and keeps the old state if that fails.</summary>
    private void Mutate(string key, JsonNode? value, string paramName)
    {
        var copy = (JsonObject)_json.DeepClone();
        copy[key] = value;
        ConfigState state;
        try
        {
            state = Validate(copy, FilePath);
        }
        catch (AdapterFormatException e)
        {
            throw new ArgumentException(e.Message, paramName, e);
        }
        _json = copy;
        _state = state;
    }

    private static JsonNode SelectorNode(ModuleSelector selector) =>
        selector.Pattern is { } p ? JsonValue.Create(p) : new JsonArray([.. selector.Names!.Select(n => (JsonNode?)JsonValue.Create(n))]);

    /// <summary>Integral values are written as JSON integers (PEFT configs carry int alphas), others as floats.</summary>
    private static JsonValue NumberNode(double value, string paramName)
    {
        if (!double.IsFinite(value))
            throw new ArgumentOutOfRangeException(paramName, value, "must be a finite number");
        return Math.Abs(value) < 9007199254740992.0 && value == Math.Floor(value) && !(value == 0 && double.IsNegative(value))
            ? JsonValue.Create((long)value)
            : JsonValue.Create(value);
    }
}
