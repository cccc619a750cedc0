namespace PeftNative.Inspection;

/// <summary>One adapter module as <c>inspect</c> lists it.</summary>
/// <param name="Module">Module path in the model (e.g. <c>model.layers.0.self_attn.q_proj</c>).</param>
/// <param name="Type">"lora", "lora-embedding" or "ia3".</param>
/// <param name="Rank">LoRA rank (null for (IA)^3).</param>
/// <param name="Alpha">LoRA alpha after alpha_pattern (null for (IA)^3).</param>
/// <param name="Scaling">LoRA scaling alpha/r or alpha/sqrt(r) (null for (IA)^3).</param>
/// <param name="InFeatures">Input features of the update (LoRA), or the (IA)^3 vector length.</param>
/// <param name="OutFeatures">Output features of the update (LoRA; null for (IA)^3).</param>
/// <param name="FeedForward">(IA)^3 only: true when it scales the module's inputs (feedforward_modules).</param>
/// <param name="Parameters">Elements of the module's tensors.</param>
public sealed record InspectedModule(string Module, string Type, int? Rank, double? Alpha, double? Scaling,
    long InFeatures, long? OutFeatures, bool? FeedForward, long Parameters);
