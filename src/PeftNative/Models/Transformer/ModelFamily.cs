namespace PeftNative.Models.Transformer;

/// <summary>The block layout a model type uses.</summary>
internal enum ModelFamily
{
    /// <summary>GPT-2: learned positions, LayerNorm, fused Conv1D q/k/v, GELU MLP.</summary>
    Gpt2,

    /// <summary>LLaMA, Mistral, Qwen2: rotary positions, RMSNorm, grouped-query attention, SwiGLU MLP.</summary>
    Llama,
}
