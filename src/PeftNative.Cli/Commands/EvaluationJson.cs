using System.Text;
using System.Text.Json;

namespace PeftNative.Cli.Commands;

/// <summary>The JSON output of eval, score and generate: one indented object, numbers that round-trip, NaN as null.</summary>
internal static class EvaluationJson
{
    /// <summary>Writes one object with <paramref name="body"/> and returns the text.</summary>
    public static string Object(Action<Utf8JsonWriter> body)
    {
        using var stream = new MemoryStream();
        using (var w = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            w.WriteStartObject();
            body(w);
            w.WriteEndObject();
        }
        return Encoding.UTF8.GetString(stream.ToArray());
    }

    /// <summary>An array of ids.</summary>
    public static void Ids(Utf8JsonWriter w, string name, IEnumerable<int> ids)
    {
        w.WriteStartArray(name);
        foreach (int id in ids)
            w.WriteNumberValue(id);
        w.WriteEndArray();
    }

    /// <summary>An array of numbers; NaN (unscored) is written as null.</summary>
    public static void Numbers(Utf8JsonWriter w, string name, IEnumerable<double> values)
    {
        w.WriteStartArray(name);
        foreach (double v in values)
        {
            if (double.IsFinite(v))
                w.WriteNumberValue(v);
            else
                w.WriteNullValue();
        }
        w.WriteEndArray();
    }

    /// <summary>A number, or null when not finite.</summary>
    public static void Number(Utf8JsonWriter w, string name, double value)
    {
        if (double.IsFinite(value))
            w.WriteNumber(name, value);
        else
            w.WriteNull(name);
    }
}
