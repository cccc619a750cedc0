namespace PeftNative.Adapters;

/// <summary>
/// adapter_config.json of a PEFT adapter. (Contract stub: implemented by the adapters work.)
/// </summary>
public sealed class AdapterConfig
{
    private AdapterConfig() { }

    /// <summary>Parses and validates a config. Throws only <see cref="AdapterFormatException"/> for any input text.</summary>
    public static AdapterConfig Parse(string json, string filePath) => throw new NotImplementedException("contract stub");
}
