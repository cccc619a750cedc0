using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using PeftNative.Adapters;

namespace PeftNative.Models;

/// <summary>
/// config.json of a Hugging Face model. Kept as the JSON object it was read from (unknown fields
/// survive); the fields the library uses are validated when present and exposed typed, reading
/// both spellings where architectures differ (GPT-2's <c>n_embd</c>/<c>n_layer</c>/<c>n_head</c>/
/// <c>n_positions</c>/<c>n_inner</c>, LLaMA's <c>hidden_size</c>/<c>num_hidden_layers</c>/...), with
/// transformers' defaults where a field is absent.
/// </summary>
public sealed class ModelConfig
{
    /// <summary>The file name transformers uses.</summary>
    public const string FileName = "config.json";

    // Model types whose config class defaults tie_word_embeddings to false (PretrainedConfig's default is true).
    private static readonly HashSet<string> UntiedByDefault = new(StringComparer.Ordinal)
    {
        "llama", "mistral", "mixtral", "qwen2", "qwen2_moe", "qwen3", "qwen3_moe", "phi3", "olmo", "olmo2", "granite",
    };

    // LLaMA-style configs whose rope_theta defaults to 10000 when absent.
    private static readonly HashSet<string> RopeDefault10k = new(StringComparer.Ordinal) { "llama", "mistral", "mixtral" };

    private readonly JsonObject _json;

    private ModelConfig(JsonObject json, string filePath)
    {
        _json = json;
        FilePath = filePath;
        var r = new Reader(json, filePath);
        ModelType = r.String("model_type");
        Architectures = r.StringList("architectures") ?? [];
        HiddenSize = r.PositiveInt("hidden_size") ?? r.PositiveInt("n_embd") ?? r.PositiveInt("d_model");
        NumHiddenLayers = r.PositiveInt("num_hidden_layers") ?? r.PositiveInt("n_layer") ?? r.PositiveInt("num_layers");
        NumAttentionHeads = r.PositiveInt("num_attention_heads") ?? r.PositiveInt("n_head");
        NumKeyValueHeads = r.PositiveInt("num_key_value_heads") ?? NumAttentionHeads;
        HeadDim = r.PositiveInt("head_dim") ?? (HiddenSize is int h && NumAttentionHeads is int n && h % n == 0 ? h / n : null);
        // GPT-2: n_inner null means 4 * n_embd (GPT2MLP).
        IntermediateSize = r.PositiveInt("intermediate_size") ?? r.PositiveInt("n_inner")
            ?? (ModelType == "gpt2" && HiddenSize is int e ? 4 * e : null);
        VocabSize = r.PositiveInt("vocab_size");
        MaxPositionEmbeddings = r.PositiveInt("max_position_embeddings") ?? r.PositiveInt("n_positions");
        TorchDType = r.String("torch_dtype") ?? r.String("dtype");
        WeightsDType = TorchDType switch
        {
            "float32" or "float" => DType.F32,
            "float16" or "half" => DType.F16,
            "bfloat16" => DType.BF16,
            "float64" or "double" => DType.F64,
            _ => null,
        };
        TieWordEmbeddings = r.Bool("tie_word_embeddings") ?? !(ModelType is not null && UntiedByDefault.Contains(ModelType));
        RopeTheta = r.PositiveNumber("rope_theta") ?? r.NestedPositiveNumber("rope_parameters", "rope_theta")
            ?? (ModelType is not null && RopeDefault10k.Contains(ModelType) ? 10000.0 : null);
        RmsNormEps = r.PositiveNumber("rms_norm_eps");
        LayerNormEpsilon = r.PositiveNumber("layer_norm_epsilon") ?? r.PositiveNumber("layer_norm_eps");
    }

    /// <summary>Where it was read from (for messages).</summary>
    public string FilePath { get; }

    /// <summary><c>model_type</c> ("gpt2", "llama", ...), or null when absent.</summary>
    public string? ModelType { get; }

    /// <summary><c>architectures</c> (e.g. "LlamaForCausalLM"), empty when absent.</summary>
    public IReadOnlyList<string> Architectures { get; }

    /// <summary><c>hidden_size</c> / <c>n_embd</c> / <c>d_model</c>.</summary>
    public int? HiddenSize { get; }

    /// <summary><c>num_hidden_layers</c> / <c>n_layer</c> / <c>num_layers</c>.</summary>
    public int? NumHiddenLayers { get; }

    /// <summary><c>num_attention_heads</c> / <c>n_head</c>.</summary>
    public int? NumAttentionHeads { get; }

    /// <summary><c>num_key_value_heads</c>, defaulting to the attention heads (no grouped-query attention).</summary>
    public int? NumKeyValueHeads { get; }

    /// <summary><c>head_dim</c>, defaulting to hidden size / heads.</summary>
    public int? HeadDim { get; }

    /// <summary><c>intermediate_size</c> / <c>n_inner</c> (GPT-2: 4 * n_embd when null).</summary>
    public int? IntermediateSize { get; }

    /// <summary><c>vocab_size</c>.</summary>
    public int? VocabSize { get; }

    /// <summary><c>max_position_embeddings</c> / <c>n_positions</c>.</summary>
    public int? MaxPositionEmbeddings { get; }

    /// <summary><c>torch_dtype</c> (or newer transformers' <c>dtype</c>) as written, e.g. "bfloat16".</summary>
    public string? TorchDType { get; }

    /// <summary><see cref="TorchDType"/> as a <see cref="DType"/>, or null when absent or not a float type.</summary>
    public DType? WeightsDType { get; }

    /// <summary><c>tie_word_embeddings</c>: the output head reuses the input embedding (default true, false for LLaMA-family types).</summary>
    public bool TieWordEmbeddings { get; }

    /// <summary><c>rope_theta</c> (or <c>rope_parameters.rope_theta</c>; 10000 for LLaMA/Mistral when absent), null for models without rotary embeddings.</summary>
    public double? RopeTheta { get; }

    /// <summary><c>rms_norm_eps</c>, or null.</summary>
    public double? RmsNormEps { get; }

    /// <summary><c>layer_norm_epsilon</c> / <c>layer_norm_eps</c>, or null.</summary>
    public double? LayerNormEpsilon { get; }

    /// <summary>True when the model's Linear-like weights are Conv1D, stored [in, out] (see <see cref="WeightLayout"/>).</summary>
    public bool UsesConv1D => WeightLayout.UsesConv1D(ModelType);

    /// <summary>Every key in the file, in file order.</summary>
    public IEnumerable<string> Keys => _json.Select(kv => kv.Key).ToArray();

    /// <summary>A copy of one field's raw JSON (null when absent or JSON null).</summary>
    public JsonNode? GetRaw(string key)
    {
        ArgumentNullException.ThrowIfNull(key);
        return _json.TryGetPropertyValue(key, out var node) ? node?.DeepClone() : null;
    }

    /// <summary>A deep copy of the whole config.</summary>
    public JsonObject ToJsonObject() => (JsonObject)_json.DeepClone();

    /// <summary>The config as transformers writes it: <c>json.dumps(config, indent=2, sort_keys=True) + "\n"</c>.</summary>
    public string ToJson() => PythonJson.Serialize(_json) + "\n";

    /// <summary>Parses and validates config.json text. Throws only <see cref="AdapterFormatException"/> for any input text.</summary>
    /// <exception cref="AdapterFormatException">Invalid JSON, not an object, or a known field of the wrong type; the message names the file and key.</exception>
    public static ModelConfig Parse(string json, string filePath)
    {
        ArgumentNullException.ThrowIfNull(filePath);
        if (json is null)
            throw new AdapterFormatException(filePath, null, "no text (null)");
        JsonNode? root;
        try
        {
            root = PythonJson.Parse(json);
        }
        catch (Exception e) when (e is JsonException or ArgumentException or InvalidOperationException or FormatException or OverflowException)
        {
            throw new AdapterFormatException(filePath, null, $"not valid JSON: {e.Message}", e);
        }
        if (root is not JsonObject obj)
            throw new AdapterFormatException(filePath, null, "must hold a JSON object");
        return FromJsonObject(obj, filePath);
    }

    /// <summary>Validates a JSON object as a model config (the object is copied).</summary>
    /// <exception cref="AdapterFormatException">A known field has the wrong type.</exception>
    public static ModelConfig FromJsonObject(JsonObject json, string filePath)
    {
        ArgumentNullException.ThrowIfNull(json);
        ArgumentNullException.ThrowIfNull(filePath);
        try
        {
            return new ModelConfig((JsonObject)json.DeepClone(), filePath);
        }
        catch (Exception e) when (e is InvalidOperationException or FormatException or OverflowException)
        {
            throw new AdapterFormatException(filePath, null, $"cannot be read: {e.Message}", e);
        }
    }

    /// <summary>Reads config.json.</summary>
    /// <exception cref="FileNotFoundException">No such file.</exception>
    /// <exception cref="AdapterFormatException">Not a valid config.</exception>
    public static ModelConfig Load(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (!File.Exists(path))
            throw new FileNotFoundException($"model config not found: {path}", path);
        return Parse(File.ReadAllText(path), path);
    }

    /// <summary>Typed optional reads; a present value of the wrong type is an error naming the key.</summary>
    private sealed class Reader(JsonObject obj, string file)
    {
        private JsonNode? Get(string key) => obj.TryGetPropertyValue(key, out var n) ? n : null;

        private AdapterFormatException Error(string key, string what, JsonNode n) =>
            new(file, key, $"must be {what}, found {Truncate(n.ToJsonString())}");

        public string? String(string key)
        {
            var n = Get(key);
            if (n is null)
                return null;
            return n.GetValueKind() == JsonValueKind.String ? n.GetValue<string>() : throw Error(key, "a string", n);
        }

        public IReadOnlyList<string>? StringList(string key)
        {
            var n = Get(key);
            if (n is null)
                return null;
            if (n is not JsonArray arr || arr.Any(i => i is null || i.GetValueKind() != JsonValueKind.String))
                throw Error(key, "a list of strings", n);
            return [.. arr.Select(i => i!.GetValue<string>())];
        }

        public bool? Bool(string key)
        {
            var n = Get(key);
            if (n is null)
                return null;
            return n.GetValueKind() switch
            {
                JsonValueKind.True => true,
                JsonValueKind.False => false,
                _ => throw Error(key, "true or false", n),
            };
        }

        public int? PositiveInt(string key)
        {
            var n = Get(key);
            if (n is null)
                return null;
            string text = n.ToJsonString();
            if (n.GetValueKind() == JsonValueKind.Number && text.AsSpan().IndexOfAny(".eE") < 0
                && int.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out int v) && v > 0)
                return v;
            throw Error(key, "a positive integer", n);
        }

        public double? PositiveNumber(string key) => Positive(key, Get(key));

        public double? NestedPositiveNumber(string key, string inner) =>
            Get(key) is JsonObject o && o.TryGetPropertyValue(inner, out var n) ? Positive($"{key}.{inner}", n) : null;

        private double? Positive(string key, JsonNode? n)
        {
            if (n is null)
                return null;
            if (n.GetValueKind() == JsonValueKind.Number
                && double.TryParse(n.ToJsonString(), NumberStyles.Float, CultureInfo.InvariantCulture, out double v) && double.IsFinite(v) && v > 0)
                return v;
            throw Error(key, "a positive number", n);
        }

        private static string Truncate(string s) => s.Length <= 80 ? s : string.Concat(s.AsSpan(0, 77), "...");
    }
}
