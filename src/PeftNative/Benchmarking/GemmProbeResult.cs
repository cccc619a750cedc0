using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace PeftNative.Benchmarking;

/// <summary>What <see cref="GemmProbe.Measure"/> found.</summary>
public sealed record GemmProbeResult
{
    /// <summary>The roofs: the best of the probe rounds before and after the products.</summary>
    public required ProbeResult Probe { get; init; }

    /// <summary>Prefill cases (compute-bound; ratio over the f32 FMA probe).</summary>
    public required IReadOnlyList<GemmMeasurement> Prefill { get; init; }

    /// <summary>Decode cases (m = 1, memory-bound; ratio over the memory probe).</summary>
    public required IReadOnlyList<GemmMeasurement> Decode { get; init; }

    /// <summary>How the numbers were taken, and anything not measured.</summary>
    public IReadOnlyList<string> Notes { get; init; } = [];

    /// <summary>The result as JSON (snake_case names).</summary>
    public string ToJson(bool indented = true) =>
        JsonSerializer.Serialize(this, indented ? GemmProbeJsonContext.Indented.GemmProbeResult : GemmProbeJsonContext.Compact.GemmProbeResult);
}

[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower,
    DefaultIgnoreCondition = JsonIgnoreCondition.Never,
    NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals)]
[JsonSerializable(typeof(GemmProbeResult))]
internal sealed partial class GemmProbeJsonContext : JsonSerializerContext
{
    public static GemmProbeJsonContext Compact { get; } = new(CreateOptions(indented: false));

    public static GemmProbeJsonContext Indented { get; } = new(CreateOptions(indented: true));

    private static JsonSerializerOptions CreateOptions(bool indented) => new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        WriteIndented = indented,
    };
}
