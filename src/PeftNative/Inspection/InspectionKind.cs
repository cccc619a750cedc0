namespace PeftNative.Inspection;

/// <summary>What <c>inspect</c> found at a path.</summary>
public enum InspectionKind
{
    /// <summary>One .safetensors file.</summary>
    Safetensors,
    /// <summary>A sharded checkpoint (an index file, or a directory of weights without a config).</summary>
    Checkpoint,
    /// <summary>A PEFT adapter directory (adapter_config.json + adapter_model.safetensors).</summary>
    Adapter,
    /// <summary>A Hugging Face model directory (config.json + safetensors weights).</summary>
    Model,
}
