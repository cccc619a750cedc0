namespace PeftNative.Models;

/// <summary>
/// How base weights are stored, by architecture. GPT-2-style models use transformers' Conv1D for
/// their projections, which stores W as [in, out] (y = x @ W + b) where nn.Linear stores [out, in];
/// LoRA updates on them are transposed (PEFT's fan_in_fan_out) and (IA)^3 swaps rows and columns.
/// </summary>
public static class WeightLayout
{
    // transformers models built on pytorch_utils.Conv1D.
    private static readonly HashSet<string> Conv1DModelTypes = new(StringComparer.Ordinal)
    {
        "gpt2", "openai-gpt", "imagegpt", "decision_transformer",
    };

    // Their Conv1D layers: attention (c_attn, cross-attention q_attn), output and MLP projections.
    private static readonly HashSet<string> Conv1DLayerNames = new(StringComparer.Ordinal)
    {
        "c_attn", "q_attn", "c_proj", "c_fc",
    };

    /// <summary>True when the model type builds its projections with Conv1D.</summary>
    public static bool UsesConv1D(string? modelType) => modelType is not null && Conv1DModelTypes.Contains(modelType);

    /// <summary>
    /// True when the module's weight is a Conv1D stored [in, out] — the fan_in_fan_out layout —
    /// e.g. <c>transformer.h.0.attn.c_attn</c> of a "gpt2" model. Embeddings and lm_head are not.
    /// </summary>
    public static bool IsFanInFanOut(string? modelType, string modulePath)
    {
        ArgumentNullException.ThrowIfNull(modulePath);
        if (!UsesConv1D(modelType))
            return false;
        int dot = modulePath.LastIndexOf('.');
        return Conv1DLayerNames.Contains(dot < 0 ? modulePath : modulePath[(dot + 1)..]);
    }
}
