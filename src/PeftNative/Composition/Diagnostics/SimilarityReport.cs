using System.Text;
using System.Text.Json;
using PeftNative.Adapters;

namespace PeftNative.Composition.Diagnostics;

/// <summary>
/// How alike several adapters' updates are (<see cref="AdapterSimilarity.Compute"/>): per module and
/// overall, the Frobenius norm of each update and the cosine similarity of each pair. Overall
/// figures treat each adapter's updates over all modules as one long vector: the overall norm is
/// sqrt(sum over modules of ||dW_m||^2) and the overall cosine is
/// sum_m &lt;dW_i,m, dW_j,m&gt; / sqrt(sum_m ||dW_i,m||^2 * sum_m ||dW_j,m||^2).
/// Lists and matrices are in <see cref="Adapters"/> order.
/// </summary>
public sealed record SimilarityReport
{
    /// <summary>LoRA or (IA)^3 (LoRA updates are s B A; (IA)^3 updates are l - 1).</summary>
    public required PeftType PeftType { get; init; }

    /// <summary>Adapter names, in the order of every list here.</summary>
    public required IReadOnlyList<string> Adapters { get; init; }

    /// <summary>Overall Frobenius norm of each adapter's updates.</summary>
    public required IReadOnlyList<double> Norms { get; init; }

    /// <summary>Overall cosine similarity, [i][j]; null where either adapter's updates are all zero.</summary>
    public required IReadOnlyList<IReadOnlyList<double?>> Cosines { get; init; }

    /// <summary>Per module, in order of first appearance (the union of the adapters' modules).</summary>
    public required IReadOnlyList<ModuleSimilarity> Modules { get; init; }

    /// <summary>The overall cosine of two adapters by name.</summary>
    /// <exception cref="ArgumentException">A name not in <see cref="Adapters"/>.</exception>
    public double? Cosine(string first, string second) => Cosines[IndexOf(first)][IndexOf(second)];

    /// <summary>
    /// The report as JSON: <c>{"peft_type": "lora", "adapters": [...], "norms": [...], "cosines": [[...]],
    /// "modules": [{"module", "present", "norms", "cosines"}]}</c> (<c>modules</c> only when
    /// <paramref name="perModule"/>); undefined cosines are null.
    /// </summary>
    public string ToJson(bool perModule = true, bool indented = true)
    {
        using var stream = new MemoryStream();
        using (var w = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = indented, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
            WriteJson(w, perModule);
        return Encoding.UTF8.GetString(stream.ToArray());
    }

    internal void WriteJson(Utf8JsonWriter w, bool perModule)
    {
        w.WriteStartObject();
        w.WriteString("peft_type", PeftType == PeftType.Lora ? "lora" : "ia3");
        DiagnosticsJson.WriteStrings(w, "adapters", Adapters);
        DiagnosticsJson.WriteNumbers(w, "norms", Norms);
        DiagnosticsJson.WriteMatrix(w, "cosines", Cosines);
        if (perModule)
        {
            w.WriteStartArray("modules");
            foreach (var m in Modules)
            {
                w.WriteStartObject();
                w.WriteString("module", m.Module);
                w.WriteStartArray("present");
                foreach (bool p in m.Present)
                    w.WriteBooleanValue(p);
                w.WriteEndArray();
                DiagnosticsJson.WriteNumbers(w, "norms", m.Norms);
                DiagnosticsJson.WriteMatrix(w, "cosines", m.Cosines);
                w.WriteEndObject();
            }
            w.WriteEndArray();
        }
        w.WriteEndObject();
    }

    private int IndexOf(string name)
    {
        for (int i = 0; i < Adapters.Count; i++)
            if (string.Equals(Adapters[i], name, StringComparison.Ordinal))
                return i;
        throw new ArgumentException($"no adapter '{name}' in the report (it has {string.Join(", ", Adapters)})", nameof(name));
    }
}
