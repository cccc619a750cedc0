using System.Text.Json.Nodes;
using System.Buffers;
using System.Globalization;
using System.Text;

namespace PeftNative.SafeTensors;

/// <summary>One tensor of a header being written: its data lies at [Begin, End) of the data section.</summary>
internal readonly record struct SafetensorsHeaderEntry(string Name, DType DType, IReadOnlyList<long> Shape, long Begin, long End);

/// <summary>
/// The JSON the writer emits, byte for byte as the reference implementation and Hugging Face emit it.
/// <para>
/// Header (huggingface/safetensors, safetensors/src/tensor.rs, <c>prepare</c> + <c>impl Serialize for
/// Metadata</c>, serialised with <c>serde_json::to_string</c>): one compact object, no whitespace;
/// <c>"__metadata__"</c> first when present (skipped when the map is None, written, even empty, when
/// Some); then the tensors in data order, each <c>{"dtype":..,"shape":[..],"data_offsets":[b,e]}</c>
/// (TensorInfo's field order). Strings are escaped as serde_json does (src/ser.rs, the ESCAPE table):
/// <c>"</c> and <c>\</c>, \b \t \n \f \r, other bytes below 0x20 as <c>\u00xx</c> in lower-case hex;
/// nothing else, so non-ASCII text and '/' go out as raw UTF-8. The header is then padded with
/// spaces to a multiple of 8 bytes.
/// </para>
/// <para>
/// Index (transformers' <c>save_pretrained</c>: <c>json.dumps(index, indent=2, sort_keys=True) + "\n"</c>):
/// Python's json with its default <c>ensure_ascii=True</c>, so every character outside ' '..'~' is a
/// <c>\uxxxx</c> escape (lower-case hex, UTF-16 surrogate pairs above the BMP), keys sorted by code point.
/// </para>
/// </summary>
internal static class SafetensorsHeaderJson
{
    /// <summary>Largest header the reference reader accepts (MAX_HEADER_SIZE, 100,000,000 bytes).</summary>
    public const int MaxHeaderBytes = 100_000_000;

    /// <summary>UTF-8 that throws on lone surrogates instead of writing U+FFFD.</summary>
    internal static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <summary>
    /// The padded header (without the 8-byte length prefix) for tensors already in file order with
    /// their offsets. Metadata keys are written in code-point order (the reference keeps them in a
    /// HashMap, whose order is arbitrary; sorting makes our output deterministic).
    /// </summary>
    /// <exception cref="ArgumentException">The header would exceed <see cref="MaxHeaderBytes"/>.</exception>
    public static byte[] BuildHeader(IReadOnlyList<SafetensorsHeaderEntry> tensors, IReadOnlyDictionary<string, string>? metadata)
    {
        var buffer = new ArrayBufferWriter<byte>(256 + tensors.Count * 96);
        Ascii(buffer, "{");
        bool first = true;
        if (metadata is not null)
        {
            Ascii(buffer, "\"__metadata__\":{");
            bool firstPair = true;
            foreach (var key in SortedKeys(metadata))
            {
                if (!firstPair)
                    Ascii(buffer, ",");
                firstPair = false;
                SerdeString(buffer, key);
                Ascii(buffer, ":");
                SerdeString(buffer, metadata[key]);
            }
            Ascii(buffer, "}");
            first = false;
        }
        foreach (var t in tensors)
        {
            if (!first)
                Ascii(buffer, ",");
            first = false;
            SerdeString(buffer, t.Name);
            Ascii(buffer, ":{\"dtype\":\"");
            Ascii(buffer, t.DType.SafetensorsName());
            Ascii(buffer, "\",\"shape\":[");
            for (int i = 0; i < t.Shape.Count; i++)
            {
                if (i > 0)
                    Ascii(buffer, ",");
                Number(buffer, t.Shape[i]);
            }
            Ascii(buffer, "],\"data_offsets\":[");
            Number(buffer, t.Begin);
            Ascii(buffer, ",");
            Number(buffer, t.End);
            Ascii(buffer, "]}");
        }
        Ascii(buffer, "}");

        int unpadded = buffer.WrittenCount;
        int padded = checked((unpadded + 7) & ~7);
        if (padded > MaxHeaderBytes)
            throw new ArgumentException($"the safetensors header would be {padded} bytes, more than the {MaxHeaderBytes}-byte limit readers enforce (too many tensors, or metadata too large)");
        var header = new byte[padded];
        buffer.WrittenSpan.CopyTo(header);
        header.AsSpan(unpadded).Fill((byte)' ');
        return header;
    }

    /// <summary>
    /// model.safetensors.index.json as transformers writes it:
    /// <c>{"metadata": {"total_size": N}, "weight_map": {name: file, ...}}</c>, indent 2, keys sorted, trailing newline.
    /// </summary>
    public static byte[] BuildIndex(long totalSize, IEnumerable<KeyValuePair<string, string>> weightMap)
    {
        var map = new JsonObject();
        foreach (var (name, file) in weightMap)
            map[name] = file;
        var index = new JsonObject { ["metadata"] = new JsonObject { ["total_size"] = totalSize }, ["weight_map"] = map };
        return Encoding.ASCII.GetBytes(PythonJson.Serialize(index) + "\n");
    }

    private static List<string> SortedKeys(IReadOnlyDictionary<string, string> map)
    {
        var keys = map.Keys.ToList();
        keys.Sort(CodePointOrder.Compare);
        return keys;
    }

    private static void Ascii(ArrayBufferWriter<byte> buffer, string text)
    {
        var span = buffer.GetSpan(text.Length);
        for (int i = 0; i < text.Length; i++)
            span[i] = (byte)text[i];
        buffer.Advance(text.Length);
    }

    private static void Number(ArrayBufferWriter<byte> buffer, long value)
    {
        var span = buffer.GetSpan(20);
        value.TryFormat(span, out int written, default, CultureInfo.InvariantCulture);
        buffer.Advance(written);
    }

    /// <summary>A JSON string as serde_json writes it: UTF-8, escaping only '"', '\' and bytes below 0x20.</summary>
    private static void SerdeString(ArrayBufferWriter<byte> buffer, string value)
    {
        int max = StrictUtf8.GetMaxByteCount(value.Length);
        byte[] rented = ArrayPool<byte>.Shared.Rent(max);
        try
        {
            int n = StrictUtf8.GetBytes(value, rented);
            Ascii(buffer, "\"");
            int start = 0;
            for (int i = 0; i < n; i++)
            {
                byte b = rented[i];
                if (b >= 0x20 && b != (byte)'"' && b != (byte)'\\')
                    continue;
                buffer.Write(rented.AsSpan(start, i - start));
                start = i + 1;
                switch (b)
                {
                    case (byte)'"': Ascii(buffer, "\\\""); break;
                    case (byte)'\\': Ascii(buffer, "\\\\"); break;
                    case 0x08: Ascii(buffer, "\\b"); break;
                    case 0x09: Ascii(buffer, "\\t"); break;
                    case 0x0A: Ascii(buffer, "\\n"); break;
                    case 0x0C: Ascii(buffer, "\\f"); break;
                    case 0x0D: Ascii(buffer, "\\r"); break;
                    default: Ascii(buffer, "\\u00" + b.ToString("x2", CultureInfo.InvariantCulture)); break;
                }
            }
            buffer.Write(rented.AsSpan(start, n - start));
            Ascii(buffer, "\"");
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(rented);
        }
    }
}

/// <summary>
/// String order by Unicode code point, which is the byte order of the UTF-8 encodings: Rust's
/// <c>String</c> Ord (the order the reference writer sorts names in) and Python's <c>str</c> order
/// (json's sort_keys). <see cref="string.CompareOrdinal(string, string)"/> differs from it only when
/// a character above U+FFFF meets one in U+E000..U+FFFF (UTF-16 puts the surrogates in between).
/// </summary>
internal static class CodePointOrder
{
    /// <summary>Negative, zero or positive as <paramref name="a"/> sorts before, with or after <paramref name="b"/>.</summary>
    public static int Compare(string? a, string? b)
    {
        if (ReferenceEquals(a, b))
            return 0;
        if (a is null)
            return -1;
        if (b is null)
            return 1;
        int n = Math.Min(a.Length, b.Length);
        for (int i = 0; i < n; i++)
        {
            char x = a[i], y = b[i];
            if (x != y)
                return Fix(x) - Fix(y);
        }
        return a.Length - b.Length;
    }

    // Surrogates (U+D800..U+DFFF) move above U+E000..U+FFFF; code-point order then holds for well-formed text.
    private static int Fix(char c) => c < 0xD800 ? c : c >= 0xE000 ? c - 0x800 : c + 0x2000;
}
