namespace PeftNative.Adapters;

/// <summary>What a tensor in adapter_model.safetensors is, read from its name (<see cref="AdapterTensorNames"/>).</summary>
public enum AdapterTensorKind
{
    /// <summary><c>…lora_A.weight</c>: LoRA down-projection A [r, in].</summary>
    LoraA,

    /// <summary><c>…lora_B.weight</c>: LoRA up-projection B [out, r].</summary>
    LoraB,

    /// <summary><c>…lora_B.bias</c>: bias of lora_B [out] (configs with <c>lora_bias</c>).</summary>
    LoraBBias,

    /// <summary><c>…lora_embedding_A</c>: embedding LoRA A [r, num_embeddings] (no ".weight").</summary>
    LoraEmbeddingA,

    /// <summary><c>…lora_embedding_B</c>: embedding LoRA B [embedding_dim, r] (no ".weight").</summary>
    LoraEmbeddingB,

    /// <summary><c>…ia3_l</c>: an (IA)^3 scaling vector.</summary>
    Ia3Vector,

    /// <summary><c>…lora_magnitude_vector</c>: a DoRA magnitude (DoRA is not supported).</summary>
    DoraMagnitude,

    /// <summary>Anything else: modules_to_save copies, biases, saved embedding layers — or a stray tensor.</summary>
    Other,
}
