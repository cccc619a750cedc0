using System.Globalization;
using System.Numerics;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace PeftNative;

/// <summary>
/// Writes JSON the way Python's <c>json.dumps(obj, indent=2, sort_keys=True)</c> does, which is how
/// PEFT's <c>save_pretrained</c> writes adapter_config.json (src/peft/config.py) and transformers
/// writes config.json: keys sorted by code point at every level, two-space indent, <c>", "</c>-free
/// item separators (<c>","</c> + newline), <c>": "</c> after keys, non-ASCII escaped as \uXXXX
/// (ensure_ascii), floats as Python's repr, integers verbatim, no trailing newline.
/// Also reads JSON strictly (duplicate keys rejected) into nodes that keep each number's text,
/// so an integer stays an integer and a float stays a float on the way back out.
/// </summary>
internal static class PythonJson
{
    /// <summary>Parses a document; throws <see cref="JsonException"/> for malformed text or duplicate keys.</summary>
    public static JsonNode? Parse(string json)
    {
        using var doc = JsonDocument.Parse(json, new JsonDocumentOptions { MaxDepth = 64 });
        return Convert(doc.RootElement, null);
    }

    /// <summary>Serialises like <c>json.dumps(node, indent=2, sort_keys=True)</c>.</summary>
    public static string Serialize(JsonNode? node)
    {
        var sb = new StringBuilder();
        Write(sb, node, 0);
        return sb.ToString();
    }

    private static JsonNode? Convert(JsonElement e, string? key)
    {
        switch (e.ValueKind)
        {
            case JsonValueKind.Object:
                var obj = new JsonObject();
                foreach (var p in e.EnumerateObject())
                {
                    // Python keeps the last duplicate silently; a config that says two things is refused instead.
                    if (obj.ContainsKey(p.Name))
                        throw new JsonException($"duplicate key '{p.Name}'");
                    obj[p.Name] = Convert(p.Value, p.Name);
                }
                return obj;
            case JsonValueKind.Array:
                var arr = new JsonArray();
                foreach (var item in e.EnumerateArray())
                    arr.Add(Convert(item, key));
                return arr;
            case JsonValueKind.Null:
                return null;
            case JsonValueKind.String:
                // Decode now: a lone-surrogate escape throws here, not later when the config is written back.
                _ = e.GetString();
                return JsonValue.Create(e.Clone());
            case JsonValueKind.Number:
                // 1e309 is valid JSON but no float64: Python would read inf and write "Infinity", which is not
                // JSON at all. Refuse it here so nothing we parse can serialise to text we cannot read back.
                if (!double.IsFinite(e.GetDouble()))
                    throw new JsonException(key is null
                        ? $"number {e.GetRawText()} is outside the float64 range"
                        : $"'{key}': number {e.GetRawText()} is outside the float64 range");
                // Keeps the element (and so the number's exact text).
                return JsonValue.Create(e.Clone());
            default:
                return JsonValue.Create(e.Clone());
        }
    }

    private static void Write(StringBuilder sb, JsonNode? node, int depth)
    {
        switch (node)
        {
            case null:
                sb.Append("null");
                break;
            case JsonObject obj:
                if (obj.Count == 0)
                {
                    sb.Append("{}");
                    break;
                }
                sb.Append('{');
                bool first = true;
                foreach (var kv in obj.OrderBy(kv => kv.Key, CodePointComparer.Instance))
                {
                    sb.Append(first ? "\n" : ",\n");
                    first = false;
                    Indent(sb, depth + 1);
                    WriteString(sb, kv.Key);
                    sb.Append(": ");
                    Write(sb, kv.Value, depth + 1);
                }
                sb.Append('\n');
                Indent(sb, depth);
                sb.Append('}');
                break;
            case JsonArray arr:
                if (arr.Count == 0)
                {
                    sb.Append("[]");
                    break;
                }
                sb.Append('[');
                for (int i = 0; i < arr.Count; i++)
                {
                    sb.Append(i == 0 ? "\n" : ",\n");
                    Indent(sb, depth + 1);
                    Write(sb, arr[i], depth + 1);
                }
                sb.Append('\n');
                Indent(sb, depth);
                sb.Append(']');
                break;
            case JsonValue value:
                WriteValue(sb, value);
                break;
            default:
                throw new InvalidOperationException($"unexpected JSON node {node.GetType().Name}");
        }
    }

    private static void WriteValue(StringBuilder sb, JsonValue value)
    {
        switch (value.GetValueKind())
        {
            case JsonValueKind.String:
                WriteString(sb, value.GetValue<string>());
                break;
            case JsonValueKind.True:
                sb.Append("true");
                break;
            case JsonValueKind.False:
                sb.Append("false");
                break;
            case JsonValueKind.Null:
                sb.Append("null");
                break;
            case JsonValueKind.Number:
                sb.Append(FormatNumber(value.ToJsonString()));
                break;
            default:
                throw new InvalidOperationException($"unexpected JSON value kind {value.GetValueKind()}");
        }
    }

    /// <summary>
    /// A JSON number as Python re-emits it after json.loads: integer text (no '.', 'e') becomes a
    /// Python int and prints exactly; anything else becomes a float and prints as repr(float).
    /// </summary>
    internal static string FormatNumber(string jsonNumber)
    {
        if (jsonNumber.AsSpan().IndexOfAny(".eE") < 0)
            return BigInteger.Parse(jsonNumber, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture).ToString(CultureInfo.InvariantCulture);
        double d = double.Parse(jsonNumber, NumberStyles.Float, CultureInfo.InvariantCulture);
        return FormatFloat(d);
    }

    /// <summary>
    /// Python's repr(float): the shortest digits that round-trip (.NET's "R" gives the same digits),
    /// laid out in exponent form when the decimal exponent is below -4 or at least 16, else positional
    /// with at least one digit after the point ('1e-05', '0.0001', '1e+16', '100.0').
    /// </summary>
    internal static string FormatFloat(double d)
    {
        if (double.IsNaN(d))
            return "NaN";
        if (double.IsInfinity(d))
            return d > 0 ? "Infinity" : "-Infinity";
        bool negative = double.IsNegative(d);
        if (d == 0)
            return negative ? "-0.0" : "0.0";

        // "R" yields e.g. "1.2345678901234568E+17", "1E-05", "0.0001", "123.5".
        string r = Math.Abs(d).ToString("R", CultureInfo.InvariantCulture);
        int ePos = r.IndexOfAny(['E', 'e']);
        string mantissa = ePos >= 0 ? r[..ePos] : r;
        int exp10 = ePos >= 0 ? int.Parse(r.AsSpan(ePos + 1), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture) : 0;
        int dot = mantissa.IndexOf('.', StringComparison.Ordinal);
        string intPart = dot >= 0 ? mantissa[..dot] : mantissa;
        string fracPart = dot >= 0 ? mantissa[(dot + 1)..] : "";
        string digits = (intPart + fracPart).TrimStart('0');
        int leadingZeros = (intPart + fracPart).Length - digits.Length;
        // decpt: value = 0.<digits> x 10^decpt (Python's dtoa convention).
        int decpt = intPart.Length + exp10 - leadingZeros;
        digits = digits.TrimEnd('0');
        if (digits.Length == 0)
            digits = "0";

        var sb = new StringBuilder(32);
        if (negative)
            sb.Append('-');
        if (decpt <= -4 || decpt > 16)
        {
            sb.Append(digits[0]);
            if (digits.Length > 1)
                sb.Append('.').Append(digits.AsSpan(1));
            int e = decpt - 1;
            sb.Append('e').Append(e < 0 ? '-' : '+').Append(Math.Abs(e).ToString("00", CultureInfo.InvariantCulture));
        }
        else if (decpt <= 0)
        {
            sb.Append("0.").Append('0', -decpt).Append(digits);
        }
        else if (decpt < digits.Length)
        {
            sb.Append(digits.AsSpan(0, decpt)).Append('.').Append(digits.AsSpan(decpt));
        }
        else
        {
            sb.Append(digits).Append('0', decpt - digits.Length).Append(".0");
        }
        return sb.ToString();
    }

    /// <summary>A string as json.dumps(ensure_ascii=True) writes it.</summary>
    /// <summary>A string as a JSON string literal (quotes and escapes), e.g. for error messages.</summary>
    internal static string Quote(string s)
    {
        var sb = new StringBuilder(s.Length + 2);
        WriteString(sb, s);
        return sb.ToString();
    }

    internal static void WriteString(StringBuilder sb, string s)
    {
        sb.Append('"');
        foreach (char c in s)
        {
            switch (c)
            {
                case '"': sb.Append("\\\""); break;
                case '\\': sb.Append("\\\\"); break;
                case '\n': sb.Append("\\n"); break;
                case '\r': sb.Append("\\r"); break;
                case '\t': sb.Append("\\t"); break;
                case '\b': sb.Append("\\b"); break;
                case '\f': sb.Append("\\f"); break;
                default:
                    // Printable ASCII (space to '~') is written as is; everything else, surrogates included, as \uXXXX.
                    if (c >= ' ' && c <= '~')
                        sb.Append(c);
                    else
                        sb.Append("\\u").Append(((int)c).ToString("x4", CultureInfo.InvariantCulture));
                    break;
            }
        }
        sb.Append('"');
    }

    private static void Indent(StringBuilder sb, int depth) => sb.Append(' ', depth * 2);

    /// <summary>Orders strings by Unicode code point, as Python compares str (UTF-16 ordinal order differs above U+FFFF).</summary>
    private sealed class CodePointComparer : IComparer<string>
    {
        public static readonly CodePointComparer Instance = new();

        public int Compare(string? x, string? y)
        {
            if (ReferenceEquals(x, y))
                return 0;
            if (x is null)
                return -1;
            if (y is null)
                return 1;
            int i = 0, j = 0;
            while (i < x.Length && j < y.Length)
            {
                int cx = Next(x, ref i), cy = Next(y, ref j);
                if (cx != cy)
                    return cx.CompareTo(cy);
            }
            return (x.Length - i).CompareTo(y.Length - j);
        }

        // A surrogate pair is one code point; a lone surrogate is its own code point, as in a Python str.
        private static int Next(string s, ref int i)
        {
            char c = s[i++];
            if (char.IsHighSurrogate(c) && i < s.Length && char.IsLowSurrogate(s[i]))
                return char.ConvertToUtf32(c, s[i++]);
            return c;
        }
    }
}
