using System.Text.Json;

namespace PeftNative.Composition.Diagnostics;

/// <summary>JSON pieces the diagnostics reports share; a non-finite or missing number is written as null.</summary>
internal static class DiagnosticsJson
{
    public static void WriteNumber(Utf8JsonWriter w, string name, double? value)
    {
        if (value is { } v && double.IsFinite(v))
            w.WriteNumber(name, v);
        else
            w.WriteNull(name);
    }

    public static void WriteNumberValue(Utf8JsonWriter w, double? value)
    {
        if (value is { } v && double.IsFinite(v))
            w.WriteNumberValue(v);
        else
            w.WriteNullValue();
    }

    public static void WriteNumbers(Utf8JsonWriter w, string name, IEnumerable<double> values)
    {
        w.WriteStartArray(name);
        foreach (double v in values)
            WriteNumberValue(w, v);
        w.WriteEndArray();
    }

    public static void WriteStrings(Utf8JsonWriter w, string name, IEnumerable<string> values)
    {
        w.WriteStartArray(name);
        foreach (string v in values)
            w.WriteStringValue(v);
        w.WriteEndArray();
    }

    public static void WriteMatrix(Utf8JsonWriter w, string name, IReadOnlyList<IReadOnlyList<double?>> rows)
    {
        w.WriteStartArray(name);
        foreach (var row in rows)
        {
            w.WriteStartArray();
            foreach (double? v in row)
                WriteNumberValue(w, v);
            w.WriteEndArray();
        }
        w.WriteEndArray();
    }
}
