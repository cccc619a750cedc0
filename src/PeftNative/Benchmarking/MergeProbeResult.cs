using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace PeftNative.Benchmarking;

/// <summary>
/// What <see cref="MergeProbe.Measure"/> found. Targets: the merge within 1.5x of the probe that
/// reads and writes the same bytes through the page cache (<see cref="Ratio"/>), and the merge's
/// peak resident memory under 1 GB (<see cref="MergePeakRssBytes"/>).
/// </summary>
public sealed record MergeProbeResult
{
    /// <summary>Parameters of the synthetic model.</summary>
    public required long Parameters { get; init; }

    /// <summary>Bytes of tensor data in the model (and written by each of the probe and the merge).</summary>
    public required long ModelBytes { get; init; }

    /// <summary>Tensors the adapter changed.</summary>
    public required int TensorsTouched { get; init; }

    /// <summary>The copy probe's wall time (best of two: before and after the merge), seconds.</summary>
    public required double ProbeSeconds { get; init; }

    /// <summary>Both probe readings, seconds.</summary>
    public required IReadOnlyList<double> ProbeReadings { get; init; }

    /// <summary>The merge's wall time, seconds.</summary>
    public required double MergeSeconds { get; init; }

    /// <summary>MergeSeconds / ProbeSeconds (target &lt;= 1.5).</summary>
    public double Ratio => MergeSeconds / ProbeSeconds;

    /// <summary>The merge's peak resident memory, bytes (target &lt; 1 GB).</summary>
    public required long MergePeakRssBytes { get; init; }

    /// <summary>The backend that merged.</summary>
    public required string Backend { get; init; }

    /// <summary>Whether outputs were fsynced before the clocks stopped.</summary>
    public required bool Durable { get; init; }

    /// <summary>Seconds spent writing the synthetic model (not measured against anything).</summary>
    public required double SetupSeconds { get; init; }

    /// <summary>Notes on the run.</summary>
    public IReadOnlyList<string> Notes { get; init; } = [];

    /// <summary>The result as JSON (snake_case).</summary>
    public string ToJson(bool indented = true) =>
        JsonSerializer.Serialize(this, indented ? MergeProbeJsonContext.Indented.MergeProbeResult : MergeProbeJsonContext.Compact.MergeProbeResult);

    /// <summary>The result as a few lines of text.</summary>
    public string ToText()
    {
        var inv = CultureInfo.InvariantCulture;
        var sb = new StringBuilder();
        sb.AppendLine(string.Create(inv, $"merge of a rank-16 LoRA ({TensorsTouched} tensors) into a synthetic {Parameters / 1e9:F2}B-parameter bf16 model ({ModelBytes / 1e9:F2} GB), {Backend}, {(Durable ? "fsync" : "no fsync")}:"));
        sb.AppendLine(string.Create(inv, $"  copy probe (read mapped, write files): {ProbeSeconds:F2} s ({2 * ModelBytes / 1e9 / ProbeSeconds:F2} GB/s read+write; readings {string.Join(" / ", ProbeReadings.Select(s => s.ToString("F2", inv)))} s)"));
        sb.AppendLine(string.Create(inv, $"  merge: {MergeSeconds:F2} s, ratio {Ratio:F2} (target <= 1.5), peak RSS {MergePeakRssBytes / 1e6:F0} MB (target < 1000 MB)"));
        foreach (string note in Notes)
            sb.AppendLine("note: " + note);
        return sb.ToString().TrimEnd();
    }
}

[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower,
    DefaultIgnoreCondition = JsonIgnoreCondition.Never,
    NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals)]
[JsonSerializable(typeof(MergeProbeResult))]
internal sealed partial class MergeProbeJsonContext : JsonSerializerContext
{
    public static MergeProbeJsonContext Compact { get; } = new(CreateOptions(indented: false));

    public static MergeProbeJsonContext Indented { get; } = new(CreateOptions(indented: true));

    private static JsonSerializerOptions CreateOptions(bool indented) => new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
        WriteIndented = indented,
    };
}
