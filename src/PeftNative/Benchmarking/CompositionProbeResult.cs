using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace PeftNative.Benchmarking;

/// <summary>What <see cref="CompositionProbe.Measure"/> found.</summary>
public sealed record CompositionProbeResult
{
    /// <summary>The svd comparison per size (empty when not asked for).</summary>
    public required IReadOnlyList<SvdRouteComparison> Svd { get; init; }

    /// <summary>The paper measurements: the composer (when implemented) and the affine floor (empty when not asked for).</summary>
    public required IReadOnlyList<PaperCompositionMeasurement> Paper { get; init; }

    /// <summary>The memory probe the rooflines divide by (null when the paper measurement did not run).</summary>
    public ProbeResult? Probe { get; init; }

    /// <summary>How the numbers were taken, and anything not measured.</summary>
    public IReadOnlyList<string> Notes { get; init; } = [];

    /// <summary>The result as JSON (snake_case names).</summary>
    public string ToJson(bool indented = true) =>
        JsonSerializer.Serialize(this, indented ? CompositionProbeJsonContext.Indented.CompositionProbeResult : CompositionProbeJsonContext.Compact.CompositionProbeResult);
}

[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower,
    DefaultIgnoreCondition = JsonIgnoreCondition.Never,
    NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals)]
[JsonSerializable(typeof(CompositionProbeResult))]
internal sealed partial class CompositionProbeJsonContext : JsonSerializerContext
{
    public static CompositionProbeJsonContext Compact { get; } = new(CreateOptions(indented: false));

    public static CompositionProbeJsonContext Indented { get; } = new(CreateOptions(indented: true));

    private static JsonSerializerOptions CreateOptions(bool indented) => new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        WriteIndented = indented,
    };
}
