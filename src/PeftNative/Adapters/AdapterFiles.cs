namespace PeftNative.Adapters;

/// <summary>File names of a PEFT adapter directory (src/peft/utils/constants.py).</summary>
public static class AdapterFiles
{
    /// <summary>The config.</summary>
    public const string Config = AdapterConfig.FileName;

    /// <summary>The weights, safetensors.</summary>
    public const string Safetensors = "adapter_model.safetensors";

    /// <summary>The weights as a PyTorch pickle (legacy; not loaded).</summary>
    public const string Pickle = "adapter_model.bin";

    /// <summary>The model card PEFT writes beside them.</summary>
    public const string Readme = "README.md";
}
