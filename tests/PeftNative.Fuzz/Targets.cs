namespace PeftNative.Fuzz;

/// <summary>The table of targets, by the name given on the command line.</summary>
internal static class Targets
{
    public static readonly IReadOnlyDictionary<string, FuzzTarget> ByName = new Dictionary<string, FuzzTarget>(StringComparer.Ordinal)
    {
        ["safetensors-header"] = SafetensorsHeaderTarget.Run,
        ["adapter-config"] = AdapterConfigTarget.Run,
        ["compose-expression"] = ComposeExpressionTarget.Run,
    };
}
