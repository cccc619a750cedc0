using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace PeftNative.Benchmarking;

/// <summary>
/// What <see cref="BandwidthHarness.Run"/> returns and <c>peftnative bench --json</c> prints:
/// <code>
/// {"probe": {"mem_gbps", "fma_gflops", "bf16_gflops", "bf16_roof_gflops", "source", "bf16_method",
///            "vector_bits", "threads", "mem_bytes", "note"},
///  "results": [{"kernel", "backend", "dtype", "shape", "rank", "inputs", "fan_in_fan_out", "threads",
///               "seconds", "gbps", "roofline", "bound", "median_seconds", "runs", "copies", "bytes", "flops"}],
///  "errors": [{"kernel", "backend", "dtype", "shape", "rank", "inputs", "message"}],
///  "notes": ["..."],
///  "settings": {"quick", "timing", "warmup_runs", "cold_set_bytes", "threads", "backends"}}
/// </code>
/// </summary>
public sealed record BenchReport
{
    /// <summary>The roofs measured in this run.</summary>
    [JsonPropertyName("probe")]
    public required ProbeResult Probe { get; init; }

    /// <summary>One entry per measured case and backend, in run order.</summary>
    [JsonPropertyName("results")]
    public required IReadOnlyList<BenchResult> Results { get; init; }

    /// <summary>Cases that failed on a backend (the run goes on without them).</summary>
    [JsonPropertyName("errors")]
    public IReadOnlyList<BenchError> Errors { get; init; } = [];

    /// <summary>One-line remarks: backends skipped and why, the probe fallback.</summary>
    [JsonPropertyName("notes")]
    public IReadOnlyList<string> Notes { get; init; } = [];

    /// <summary>How the numbers were taken.</summary>
    [JsonPropertyName("settings")]
    public required BenchSettings Settings { get; init; }

    /// <summary>The report as JSON (snake_case names, one object).</summary>
    public string ToJson(bool indented = true) =>
        JsonSerializer.Serialize(this, indented ? BenchJsonContext.Indented.BenchReport : BenchJsonContext.Compact.BenchReport);

    /// <summary>Reads a report written by <see cref="ToJson"/>.</summary>
    /// <exception cref="JsonException">Malformed JSON or a missing required field.</exception>
    public static BenchReport FromJson(string json) =>
        JsonSerializer.Deserialize(json, BenchJsonContext.Default.BenchReport)
        ?? throw new JsonException("bench report: the JSON is null");
}

/// <summary>The settings a report was taken with.</summary>
public sealed record BenchSettings
{
    /// <summary>True for --quick.</summary>
    [JsonPropertyName("quick")]
    public required bool Quick { get; init; }

    /// <summary>The statistic in "seconds": always "best" (the shortest timed cold run); "median_seconds" has the median.</summary>
    [JsonPropertyName("timing")]
    public string Timing { get; init; } = "best";

    /// <summary>Untimed warm-up runs per case.</summary>
    [JsonPropertyName("warmup_runs")]
    public required int WarmupRuns { get; init; }

    /// <summary>Minimum cold-set size per case, in bytes.</summary>
    [JsonPropertyName("cold_set_bytes")]
    public required long ColdSetBytes { get; init; }

    /// <summary>Threads asked for (the reference backend always runs on one).</summary>
    [JsonPropertyName("threads")]
    public required int Threads { get; init; }

    /// <summary>Backends measured.</summary>
    [JsonPropertyName("backends")]
    public required IReadOnlyList<string> Backends { get; init; }
}

[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower,
    DefaultIgnoreCondition = JsonIgnoreCondition.Never,
    NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals)]
[JsonSerializable(typeof(BenchReport))]
internal sealed partial class BenchJsonContext : JsonSerializerContext
{
    // "f32->bf16" and "widen+fma" stay readable: the report is ASCII data, never embedded in HTML.
    public static BenchJsonContext Compact { get; } = new(CreateOptions(indented: false));

    public static BenchJsonContext Indented { get; } = new(CreateOptions(indented: true));

    private static JsonSerializerOptions CreateOptions(bool indented) => new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        WriteIndented = indented,
    };
}
