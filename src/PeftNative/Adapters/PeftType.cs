namespace PeftNative.Adapters;

/// <summary>The PEFT methods PeftNative loads, composes and saves (adapter_config.json <c>peft_type</c>).</summary>
public enum PeftType
{
    /// <summary>LoRA (<c>"LORA"</c>): dW = s * B @ A per target module.</summary>
    Lora,

    /// <summary>(IA)^3 (<c>"IA3"</c>): a learned vector scaling each target module's input or output features.</summary>
    Ia3,
}
