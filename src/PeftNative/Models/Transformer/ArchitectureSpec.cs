using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using PeftNative.Adapters;

namespace PeftNative.Models.Transformer;

/// <summary>
/// The shapes and settings of a decoder read from config.json, checked once so the blocks can
/// trust them. Whatever the forward pass cannot reproduce exactly (rope_scaling, another
/// activation, partial rotary) is refused here with the file and key named.
/// </summary>
internal sealed record ArchitectureSpec
{
    public required string ModelType { get; init; }
    public required ModelFamily Family { get; init; }
    public required int HiddenSize { get; init; }
    public required int Layers { get; init; }
    public required int Heads { get; init; }
    public required int KeyValueHeads { get; init; }
    public required int HeadDim { get; init; }
    public required int IntermediateSize { get; init; }
    public required int VocabSize { get; init; }
    public required int MaxPositions { get; init; }
    public required float NormEpsilon { get; init; }
    public required bool TieWordEmbeddings { get; init; }

    /// <summary>LLaMA family: rope_theta.</summary>
    public double RopeTheta { get; init; }

    /// <summary>LLaMA family: q/k/v carry a bias (Qwen2 always, LLaMA with attention_bias).</summary>
    public bool QkvBias { get; init; }

    /// <summary>LLaMA family: o_proj carries a bias (LLaMA's attention_bias).</summary>
    public bool OutputProjectionBias { get; init; }

    /// <summary>LLaMA family: gate/up/down carry a bias (mlp_bias).</summary>
    public bool MlpBias { get; init; }

    /// <summary>Per layer: the sliding attention window, or 0 for full causal attention.</summary>
    public required IReadOnlyList<int> SlidingWindow { get; init; }

    /// <summary>GPT-2: divide scores by √head_dim (scale_attn_weights).</summary>
    public bool ScaleAttentionWeights { get; init; } = true;

    /// <summary>GPT-2: also divide scores by layer_idx + 1 (scale_attn_by_inverse_layer_idx).</summary>
    public bool ScaleByInverseLayerIndex { get; init; }

    public int QueryWidth => Heads * HeadDim;
    public int KeyValueWidth => KeyValueHeads * HeadDim;

    /// <summary>Reads and checks the config.</summary>
    /// <exception cref="AdapterFormatException">Unknown model type, a missing or inconsistent field, or a setting not implemented.</exception>
    public static ArchitectureSpec From(ModelConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        string file = config.FilePath;
        string type = config.ModelType
            ?? throw new AdapterFormatException(file, "model_type", $"is missing; the forward pass supports {string.Join(", ", TransformerModel.SupportedModelTypes)}");
        return type switch
        {
            "gpt2" => Gpt2(config, file),
            "llama" or "mistral" or "qwen2" => Llama(config, file, type),
            _ => throw new AdapterFormatException(file, "model_type",
                $"'{type}' is not supported by the forward pass (supported: {string.Join(", ", TransformerModel.SupportedModelTypes)})"),
        };
    }

    private static ArchitectureSpec Gpt2(ModelConfig c, string file)
    {
        int hidden = Required(c.HiddenSize, file, "n_embd");
        int heads = Required(c.NumAttentionHeads, file, "n_head");
        if (hidden % heads != 0)
            throw new AdapterFormatException(file, "n_head", $"{heads} does not divide n_embd {hidden}");
        string activation = StringField(c, "activation_function") ?? "gelu_new";
        if (activation is not ("gelu_new" or "gelu_pytorch_tanh" or "gelu_fast"))
            throw new AdapterFormatException(file, "activation_function", $"'{activation}' is not supported (the forward pass implements the tanh GELU: gelu_new, gelu_pytorch_tanh)");
        int layers = Required(c.NumHiddenLayers, file, "n_layer");
        return new ArchitectureSpec
        {
            ModelType = "gpt2",
            Family = ModelFamily.Gpt2,
            HiddenSize = hidden,
            Layers = layers,
            Heads = heads,
            KeyValueHeads = heads,
            HeadDim = hidden / heads,
            IntermediateSize = Required(c.IntermediateSize, file, "n_inner"),
            VocabSize = Required(c.VocabSize, file, "vocab_size"),
            MaxPositions = Required(c.MaxPositionEmbeddings, file, "n_positions"),
            NormEpsilon = (float)(c.LayerNormEpsilon ?? 1e-5),
            TieWordEmbeddings = c.TieWordEmbeddings,
            SlidingWindow = new int[layers],
            ScaleAttentionWeights = BoolField(c, "scale_attn_weights") ?? true,
            ScaleByInverseLayerIndex = BoolField(c, "scale_attn_by_inverse_layer_idx") ?? false,
        };
    }

    private static ArchitectureSpec Llama(ModelConfig c, string file, string type)
    {
        if (c.GetRaw("rope_scaling") is JsonNode scaling)
            throw new AdapterFormatException(file, "rope_scaling", $"{scaling.ToJsonString()} is not supported (only plain rotary embeddings, rope_scaling null)");
        if (c.GetRaw("rope_parameters") is JsonObject rp && rp["rope_type"] is JsonNode rt && rt.ToString() != "default")
            throw new AdapterFormatException(file, "rope_parameters.rope_type", $"'{rt}' is not supported (only the default rotary embedding)");
        double partial = NumberField(c, "partial_rotary_factor") ?? 1.0;
        if (partial != 1.0)
            throw new AdapterFormatException(file, "partial_rotary_factor", $"{partial.ToString(CultureInfo.InvariantCulture)} is not supported (rotary over the whole head only)");
        string activation = StringField(c, "hidden_act") ?? "silu";
        if (activation != "silu")
            throw new AdapterFormatException(file, "hidden_act", $"'{activation}' is not supported (the forward pass implements SwiGLU with silu)");

        int hidden = Required(c.HiddenSize, file, "hidden_size");
        int heads = Required(c.NumAttentionHeads, file, "num_attention_heads");
        int kvHeads = Required(c.NumKeyValueHeads, file, "num_key_value_heads");
        if (heads % kvHeads != 0)
            throw new AdapterFormatException(file, "num_key_value_heads", $"{kvHeads} does not divide num_attention_heads {heads}");
        int headDim = c.HeadDim ?? throw new AdapterFormatException(file, "head_dim", $"is missing and num_attention_heads {heads} does not divide hidden_size {hidden}");
        if (headDim % 2 != 0)
            throw new AdapterFormatException(file, "head_dim", $"{headDim} is odd; rotary embeddings need an even head size");
        int layers = Required(c.NumHiddenLayers, file, "num_hidden_layers");
        bool attentionBias = BoolField(c, "attention_bias") ?? false;
        return new ArchitectureSpec
        {
            ModelType = type,
            Family = ModelFamily.Llama,
            HiddenSize = hidden,
            Layers = layers,
            Heads = heads,
            KeyValueHeads = kvHeads,
            HeadDim = headDim,
            IntermediateSize = Required(c.IntermediateSize, file, "intermediate_size"),
            VocabSize = Required(c.VocabSize, file, "vocab_size"),
            MaxPositions = Required(c.MaxPositionEmbeddings, file, "max_position_embeddings"),
            NormEpsilon = (float)(c.RmsNormEps ?? 1e-6),
            TieWordEmbeddings = c.TieWordEmbeddings,
            // Qwen2 and llama.cpp-era configs without rope_theta use 10000 (the transformers default).
            RopeTheta = c.RopeTheta ?? 10000.0,
            QkvBias = type == "qwen2" || attentionBias,
            OutputProjectionBias = type == "llama" && attentionBias,
            MlpBias = type == "llama" && (BoolField(c, "mlp_bias") ?? false),
            SlidingWindow = SlidingWindows(c, file, type, layers),
        };
    }

    // transformers' defaults: Mistral slides every layer (sliding_window 4096 when the key is absent,
    // none when null); Qwen2 only with use_sliding_window, on layers from max_window_layers (default 28)
    // on; an explicit layer_types list ("sliding_attention" / "full_attention") wins. LLaMA: none.
    private static int[] SlidingWindows(ModelConfig c, string file, string type, int layers)
    {
        var windows = new int[layers];
        if (type == "llama")
            return windows;
        int? window = IntField(c, file, "sliding_window");
        if (type == "mistral" && window is null && !c.Keys.Contains("sliding_window"))
            window = 4096;
        if (window is not int w)
            return windows;
        if (c.GetRaw("layer_types") is JsonArray kinds)
        {
            if (kinds.Count != layers)
                throw new AdapterFormatException(file, "layer_types", $"has {kinds.Count} entries for {layers} layers");
            for (int i = 0; i < layers; i++)
            {
                string kind = kinds[i]?.GetValueKind() == JsonValueKind.String ? kinds[i]!.GetValue<string>() : "";
                windows[i] = kind switch
                {
                    "sliding_attention" => w,
                    "full_attention" => 0,
                    _ => throw new AdapterFormatException(file, "layer_types", $"entry {i} must be \"full_attention\" or \"sliding_attention\""),
                };
            }
            return windows;
        }
        int first = 0;
        if (type == "qwen2")
        {
            if (!(BoolField(c, "use_sliding_window") ?? false))
                return windows;
            first = IntField(c, file, "max_window_layers") ?? 28;
        }
        for (int i = first; i < layers; i++)
            windows[i] = w;
        return windows;
    }

    private static int Required(int? value, string file, string key) =>
        value ?? throw new AdapterFormatException(file, key, "is missing; the forward pass needs it");

    private static string? StringField(ModelConfig c, string key) =>
        c.GetRaw(key) is JsonNode n && n.GetValueKind() == JsonValueKind.String ? n.GetValue<string>() : null;

    private static bool? BoolField(ModelConfig c, string key) => c.GetRaw(key) is JsonNode n ? n.GetValueKind() switch
    {
        JsonValueKind.True => true,
        JsonValueKind.False => false,
        _ => null,
    } : null;

    private static double? NumberField(ModelConfig c, string key) =>
        c.GetRaw(key) is JsonNode n && n.GetValueKind() == JsonValueKind.Number ? n.GetValue<double>() : null;

    private static int? IntField(ModelConfig c, string file, string key)
    {
        if (c.GetRaw(key) is not JsonNode n)
            return null;
        if (n.GetValueKind() == JsonValueKind.Number && int.TryParse(n.ToJsonString(), NumberStyles.None, CultureInfo.InvariantCulture, out int v) && v > 0)
            return v;
        throw new AdapterFormatException(file, key, $"must be a positive integer or null, found {n.ToJsonString()}");
    }
}
