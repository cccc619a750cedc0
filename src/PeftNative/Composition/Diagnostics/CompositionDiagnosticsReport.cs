using System.Text;
using System.Text.Json;

namespace PeftNative.Composition.Diagnostics;

/// <summary>What <see cref="CompositionDiagnostics.Analyze"/> found.</summary>
public sealed record CompositionDiagnosticsReport
{
    /// <summary>The terms analysed (as applied).</summary>
    public required IReadOnlyList<CompositionTerm> Terms { get; init; }

    /// <summary>Norms and cosines of the adapters the terms name.</summary>
    public required SimilarityReport Similarity { get; init; }

    /// <summary>The paper method against the exact sum, per module (same order as <see cref="SimilarityReport.Modules"/>).</summary>
    public required IReadOnlyList<CrossTermError> CrossTermErrors { get; init; }

    /// <summary>
    /// sqrt(sum_m ||dW_p,m - dW_e,m||^2 / sum_m ||dW_e,m||^2) over the modules where the paper method
    /// applies: the relative error of the whole composed adapter; null when it applies nowhere.
    /// </summary>
    public double? OverallCrossTermError { get; init; }

    /// <summary>The module with the largest relative error, or null.</summary>
    public CrossTermError? WorstCrossTermError { get; init; }

    /// <summary>A-factor alignment of each pair of distinct LoRA adapters (empty for (IA)^3 or one adapter).</summary>
    public required IReadOnlyList<AFactorAlignment> AFactorAlignments { get; init; }

    /// <summary>The threshold <see cref="AFactorAlignment.LooksUnrelated"/> was decided with.</summary>
    public required double AFactorCosineThreshold { get; init; }

    /// <summary>Warnings about the paper method on these inputs (one line each).</summary>
    public required IReadOnlyList<string> Warnings { get; init; }

    /// <summary>
    /// The report as JSON: <c>{"terms": [{"adapter", "coefficient"}], "similarity": {...},
    /// "cross_term": {"overall", "worst_module", "worst", "modules": [{"module", "exact_norm",
    /// "paper_norm", "difference_norm", "relative_error", "note"}]}, "a_factor_alignment": [{"first",
    /// "second", "modules", "mean_cosine", "min_cosine", "looks_unrelated"}], "a_factor_cosine_threshold",
    /// "warnings": [...]}</c>; per-module lists only when <paramref name="perModule"/>.
    /// </summary>
    public string ToJson(bool perModule = true, bool indented = true)
    {
        using var stream = new MemoryStream();
        using (var w = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = indented, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
            WriteJson(w, perModule);
        return Encoding.UTF8.GetString(stream.ToArray());
    }

    /// <summary>Writes the object <see cref="ToJson"/> describes.</summary>
    internal void WriteJson(Utf8JsonWriter w, bool perModule)
    {
        w.WriteStartObject();
        w.WriteStartArray("terms");
        foreach (var t in Terms)
        {
            w.WriteStartObject();
            w.WriteString("adapter", t.Adapter);
            w.WriteNumber("coefficient", t.Coefficient);
            w.WriteEndObject();
        }
        w.WriteEndArray();
        w.WritePropertyName("similarity");
        Similarity.WriteJson(w, perModule);
        w.WriteStartObject("cross_term");
        DiagnosticsJson.WriteNumber(w, "overall", OverallCrossTermError);
        if (WorstCrossTermError is { } worst)
        {
            w.WriteString("worst_module", worst.Module);
            DiagnosticsJson.WriteNumber(w, "worst", worst.RelativeError);
        }
        else
        {
            w.WriteNull("worst_module");
            w.WriteNull("worst");
        }
        if (perModule)
        {
            w.WriteStartArray("modules");
            foreach (var e in CrossTermErrors)
            {
                w.WriteStartObject();
                w.WriteString("module", e.Module);
                DiagnosticsJson.WriteNumber(w, "exact_norm", e.ExactNorm);
                DiagnosticsJson.WriteNumber(w, "paper_norm", e.PaperNorm);
                DiagnosticsJson.WriteNumber(w, "difference_norm", e.DifferenceNorm);
                DiagnosticsJson.WriteNumber(w, "relative_error", e.RelativeError);
                if (e.Note is null)
                    w.WriteNull("note");
                else
                    w.WriteString("note", e.Note);
                w.WriteEndObject();
            }
            w.WriteEndArray();
        }
        w.WriteEndObject();
        w.WriteStartArray("a_factor_alignment");
        foreach (var a in AFactorAlignments)
        {
            w.WriteStartObject();
            w.WriteString("first", a.First);
            w.WriteString("second", a.Second);
            w.WriteNumber("modules", a.Modules);
            DiagnosticsJson.WriteNumber(w, "mean_cosine", a.MeanCosine);
            DiagnosticsJson.WriteNumber(w, "min_cosine", a.MinCosine);
            w.WriteBoolean("looks_unrelated", a.LooksUnrelated);
            w.WriteEndObject();
        }
        w.WriteEndArray();
        w.WriteNumber("a_factor_cosine_threshold", AFactorCosineThreshold);
        DiagnosticsJson.WriteStrings(w, "warnings", Warnings);
        w.WriteEndObject();
    }
}
