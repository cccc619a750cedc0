using System.Collections.ObjectModel;
using System.Text.Json;

namespace PeftNative.SafeTensors;

/// <summary>Reading the JSON header into entries: two passes, syntax first, then the schema.</summary>
public sealed partial class SafetensorsHeader
{
    private const string MetadataKey = "__metadata__";

    private static readonly Dictionary<string, DType> DTypeByName =
        Enum.GetValues<DType>().ToDictionary(d => d.SafetensorsName(), StringComparer.Ordinal);

    /// <summary>
    /// Checks encoding and syntax over the whole header first, so a broken header is reported as
    /// broken JSON rather than by whichever schema rule the damage happens to reach; then reads the
    /// entries with a forward-only reader (no document tree; memory stays proportional to the header).
    /// </summary>
    private static (List<SafetensorsTensorInfo> Tensors, IReadOnlyDictionary<string, string> Metadata) ParseJson(
        ReadOnlySpan<byte> json, long dataLength, string filePath)
    {
        int badUtf8 = StrictJson.FindInvalidUtf8(json);
        if (badUtf8 >= 0)
            throw Fail(filePath, null, $"header is not valid UTF-8 (at header byte {badUtf8})");
        if (json[0] != (byte)'{')
            throw Fail(filePath, null, $"header does not start with '{{' (first byte 0x{json[0]:X2}); it must be a JSON object with no leading whitespace");
        string? syntax = StrictJson.FindSyntaxProblem(json);
        if (syntax is not null)
            throw Fail(filePath, null, "header is not valid JSON: " + syntax);

        var reader = new Utf8JsonReader(json, StrictJson.ReaderOptions);
        reader.Read(); // the '{' checked above
        var tensors = new List<SafetensorsTensorInfo>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        IReadOnlyDictionary<string, string>? metadata = null;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            string name = ReadString(ref reader, filePath);
            bool isMetadata = name == MetadataKey;
            if (!seen.Add(name))
                throw Fail(filePath, isMetadata ? null : name, isMetadata ? "'__metadata__' appears twice in the header" : "appears twice in the header");
            reader.Read();
            if (isMetadata)
                metadata = ParseMetadata(ref reader, filePath);
            else if (name.Length == 0)
                throw Fail(filePath, null, "a tensor has an empty name");
            else
                tensors.Add(ParseEntry(ref reader, name, dataLength, filePath));
        }
        return (tensors, metadata ?? ReadOnlyDictionary<string, string>.Empty);
    }

    private static IReadOnlyDictionary<string, string> ParseMetadata(ref Utf8JsonReader reader, string filePath)
    {
        if (reader.TokenType != JsonTokenType.StartObject)
            throw Fail(filePath, null, $"__metadata__ must be a JSON object of strings, found {StrictJson.Describe(reader.TokenType)}");
        var map = new Dictionary<string, string>(StringComparer.Ordinal);
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            string key = ReadString(ref reader, filePath);
            if (map.ContainsKey(key))
                throw Fail(filePath, null, $"duplicate key {StrictJson.Quote(key)} in __metadata__");
            reader.Read();
            if (reader.TokenType != JsonTokenType.String)
            {
                // A tensor entry under the reserved name: say so rather than "value must be a string".
                if (key is "dtype" or "shape" or "data_offsets")
                    throw Fail(filePath, null, "'__metadata__' is reserved for the metadata map and cannot name a tensor");
                throw Fail(filePath, null, $"__metadata__ value of {StrictJson.Quote(key)} must be a string, found {StrictJson.Describe(reader.TokenType)}");
            }
            map.Add(key, ReadString(ref reader, filePath));
        }
        return map.AsReadOnly();
    }

    private static SafetensorsTensorInfo ParseEntry(ref Utf8JsonReader reader, string name, long dataLength, string filePath)
    {
        if (reader.TokenType != JsonTokenType.StartObject)
            throw Fail(filePath, name, $"entry must be a JSON object with dtype, shape and data_offsets, found {StrictJson.Describe(reader.TokenType)}");
        DType? dtype = null;
        long[]? shape = null;
        long[]? offsets = null;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            string key = ReadString(ref reader, filePath);
            bool duplicate = key switch
            {
                "dtype" => dtype is not null,
                "shape" => shape is not null,
                "data_offsets" => offsets is not null,
                _ => throw Fail(filePath, name, $"unknown key {StrictJson.Quote(key)} in the tensor entry (expected dtype, shape, data_offsets)"),
            };
            if (duplicate)
                throw Fail(filePath, name, $"duplicate key '{key}' in the tensor entry");
            reader.Read();
            switch (key)
            {
                case "dtype":
                    dtype = ParseDType(ref reader, name, filePath);
                    break;
                case "shape":
                    shape = ParseIntegers(ref reader, "shape", MaxRank, name, filePath);
                    break;
                default:
                    offsets = ParseIntegers(ref reader, "data_offsets", 2, name, filePath);
                    break;
            }
        }
        if (dtype is null)
            throw Fail(filePath, name, "missing 'dtype'");
        if (shape is null)
            throw Fail(filePath, name, "missing 'shape'");
        if (offsets is null)
            throw Fail(filePath, name, "missing 'data_offsets'");
        return CheckEntry(name, dtype.Value, shape, offsets, dataLength, filePath);
    }

    private static SafetensorsTensorInfo CheckEntry(string name, DType dtype, long[] shape, long[] offsets, long dataLength, string filePath)
    {
        if (offsets.Length != 2)
            throw Fail(filePath, name, $"data_offsets has {offsets.Length} {(offsets.Length == 1 ? "entry" : "entries")}; expected exactly 2 ([begin, end])");
        long begin = offsets[0], end = offsets[1];
        if (end < begin)
            throw Fail(filePath, name, $"data_offsets [{begin}, {end}] end before they begin");
        string shapeText = shape.Length == 0 ? "[] (scalar)" : "[" + string.Join(", ", shape) + "]";
        long bits;
        try
        {
            long count = 1;
            foreach (long d in shape)
                count = checked(count * d);
            bits = checked(count * dtype.BitsOf());
        }
        catch (OverflowException)
        {
            throw Fail(filePath, name, $"the size of shape {shapeText} of {dtype.SafetensorsName()} overflows a 64-bit integer");
        }
        if (bits % 8 != 0)
            throw Fail(filePath, name, $"shape {shapeText} of {dtype.SafetensorsName()} is {bits} bits, not a whole number of bytes");
        long bytes = bits / 8;
        if (end - begin != bytes)
            throw Fail(filePath, name, $"data_offsets [{begin}, {end}] span {end - begin} bytes but shape {shapeText} of {dtype.SafetensorsName()} needs {bytes}");
        if (end > dataLength)
            throw Fail(filePath, name, $"data_offsets [{begin}, {end}] run past the end of the data section ({dataLength} bytes; is the file truncated?)");
        return new SafetensorsTensorInfo(name, dtype, Array.AsReadOnly(shape), begin, end, filePath);
    }

    private static DType ParseDType(ref Utf8JsonReader reader, string name, string filePath)
    {
        if (reader.TokenType != JsonTokenType.String)
            throw Fail(filePath, name, $"dtype must be a string, found {StrictJson.Describe(reader.TokenType)}");
        string text = ReadString(ref reader, filePath);
        if (DTypeByName.TryGetValue(text, out var dtype))
            return dtype;
        string? near = DTypeByName.Keys.FirstOrDefault(k => string.Equals(k, text, StringComparison.OrdinalIgnoreCase));
        string hint = near is null ? "" : $" (dtype names are case-sensitive: did you mean '{near}'?)";
        throw Fail(filePath, name, $"unknown dtype {StrictJson.Quote(text)}{hint}");
    }

    /// <summary>
    /// Reads an array of non-negative integers. At most <paramref name="limit"/> are kept: one more
    /// is reported at once, so a hostile array never grows a list beyond the limit.
    /// </summary>
    private static long[] ParseIntegers(ref Utf8JsonReader reader, string what, int limit, string name, string filePath)
    {
        string expected = limit == 2 ? "an array of two integers [begin, end]" : "an array of non-negative integers";
        if (reader.TokenType != JsonTokenType.StartArray)
            throw Fail(filePath, name, $"{what} must be {expected}, found {StrictJson.Describe(reader.TokenType)}");
        var values = new List<long>(Math.Min(limit, 8));
        while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
        {
            if (values.Count == limit)
            {
                throw Fail(filePath, name, limit == 2
                    ? "data_offsets has more than 2 entries; expected exactly 2 ([begin, end])"
                    : $"shape has more than {MaxRank} dimensions");
            }
            string? problem = StrictJson.TryReadNonNegativeInteger(ref reader, $"{what}[{values.Count}]", out long value);
            if (problem is not null)
                throw Fail(filePath, name, problem);
            values.Add(value);
        }
        return [.. values];
    }

    private static string ReadString(ref Utf8JsonReader reader, string filePath)
    {
        // The syntax pass already decoded every escaped string; this is a backstop.
        if (!StrictJson.TryGetString(ref reader, out string value))
            throw Fail(filePath, null, $"header is not valid JSON: a string at byte {reader.TokenStartIndex} has a \\u escape that is an unpaired surrogate");
        return value;
    }
}
