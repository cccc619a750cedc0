namespace PeftNative.Adapters;

/// <summary>
/// LoRA <c>bias</c>: which base-model bias vectors were trained and saved with the adapter
/// (PEFT get_peft_model_state_dict: "all" saves every bias, "lora_only" those of LoRA-wrapped modules).
/// </summary>
public enum LoraBiasMode
{
    /// <summary><c>"none"</c>: no bias tensors in the file.</summary>
    None,

    /// <summary><c>"all"</c>: every bias of the model may be in the file.</summary>
    All,

    /// <summary><c>"lora_only"</c>: biases of the modules that carry LoRA.</summary>
    LoraOnly,
}
