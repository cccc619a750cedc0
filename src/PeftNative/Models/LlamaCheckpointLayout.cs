namespace PeftNative.Models;

/// <summary>
/// The tensors of a Hugging Face LLaMA checkpoint (LlamaForCausalLM state-dict names and shapes),
/// for the writers of synthetic models (the demo, the forward and merge benchmarks). The order is
/// embedding, then per layer input_layernorm, q/k/v/o_proj, post_attention_layernorm,
/// gate/up/down_proj, then the final norm and (unless tied) lm_head; 1-D tensors are the norms.
/// </summary>
internal static class LlamaCheckpointLayout
{
    /// <summary>The state-dict name of the token embedding.</summary>
    public const string EmbeddingName = "model.embed_tokens.weight";

    /// <summary>Names and shapes, in the order above.</summary>
    /// <param name="hidden">hidden_size.</param>
    /// <param name="intermediate">intermediate_size.</param>
    /// <param name="layers">num_hidden_layers.</param>
    /// <param name="keyValueSize">Output features of k_proj and v_proj (num_key_value_heads x head_dim).</param>
    /// <param name="vocab">vocab_size.</param>
    /// <param name="tiedHead">tie_word_embeddings: no lm_head.weight.</param>
    public static IEnumerable<(string Name, long[] Shape)> Tensors(long hidden, long intermediate, int layers, long keyValueSize, long vocab,
        bool tiedHead = false)
    {
        yield return (EmbeddingName, [vocab, hidden]);
        for (int l = 0; l < layers; l++)
        {
            string p = $"model.layers.{l}.";
            yield return (p + "input_layernorm.weight", [hidden]);
            yield return (p + "self_attn.q_proj.weight", [hidden, hidden]);
            yield return (p + "self_attn.k_proj.weight", [keyValueSize, hidden]);
            yield return (p + "self_attn.v_proj.weight", [keyValueSize, hidden]);
            yield return (p + "self_attn.o_proj.weight", [hidden, hidden]);
            yield return (p + "post_attention_layernorm.weight", [hidden]);
            yield return (p + "mlp.gate_proj.weight", [intermediate, hidden]);
            yield return (p + "mlp.up_proj.weight", [intermediate, hidden]);
            yield return (p + "mlp.down_proj.weight", [hidden, intermediate]);
        }
        yield return ("model.norm.weight", [hidden]);
        if (!tiedHead)
            yield return ("lm_head.weight", [vocab, hidden]);
    }
}
