using System.Buffers.Text;
using System.Text;
using System.Text.Json;
using System.Text.Unicode;

namespace PeftNative.SafeTensors;

/// <summary>
/// The strict JSON rules shared by safetensors headers and index files: UTF-8 checked up front,
/// no comments, no trailing commas, bounded nesting, unpaired surrogate escapes refused (serde_json,
/// which the reference implementation uses, refuses them too), integers written as plain digits.
/// Every check reports a problem text instead of throwing, so callers attach their own file name.
/// </summary>
internal static class StrictJson
{
    /// <summary>Deepest nesting accepted. Valid headers nest 3 deep; the bound only keeps garbage cheap.</summary>
    public const int MaxDepth = 64;

    /// <summary>Longest name or value quoted in a message before it is shortened.</summary>
    private const int MaxQuotedChars = 120;

    /// <summary>
    /// Reader options: the reader's own depth limit sits one above ours so that
    /// <see cref="FindSyntaxProblem"/> reports depth in its own words first.
    /// </summary>
    public static JsonReaderOptions ReaderOptions => new()
    {
        CommentHandling = JsonCommentHandling.Disallow,
        AllowTrailingCommas = false,
        AllowMultipleValues = false,
        MaxDepth = MaxDepth + 1,
    };

    /// <summary>The byte offset of the first invalid UTF-8 sequence, or -1 when the text is valid.</summary>
    public static int FindInvalidUtf8(ReadOnlySpan<byte> text)
    {
        if (Utf8.IsValid(text))
            return -1;
        int offset = 0;
        while (offset < text.Length)
        {
            if (Rune.DecodeFromUtf8(text[offset..], out _, out int consumed) != System.Buffers.OperationStatus.Done)
                return offset;
            offset += consumed;
        }
        return offset; // unreachable when IsValid said no
    }

    /// <summary>
    /// Reads the whole text once and returns what is wrong with it as JSON (syntax, nesting deeper
    /// than <see cref="MaxDepth"/>, escapes that decode to unpaired surrogates), or null when it is
    /// one well-formed JSON value followed only by whitespace. The text must be valid UTF-8.
    /// </summary>
    public static string? FindSyntaxProblem(ReadOnlySpan<byte> text)
    {
        var reader = new Utf8JsonReader(text, ReaderOptions);
        try
        {
            while (reader.Read())
            {
                switch (reader.TokenType)
                {
                    case JsonTokenType.StartObject or JsonTokenType.StartArray when reader.CurrentDepth >= MaxDepth:
                        return $"JSON nests deeper than {MaxDepth} levels (at byte {reader.TokenStartIndex})";
                    case JsonTokenType.String or JsonTokenType.PropertyName when reader.ValueIsEscaped:
                        if (!TryGetString(ref reader, out _))
                            return $"a string at byte {reader.TokenStartIndex} has a \\u escape that is an unpaired surrogate";
                        break;
                }
            }
            return null;
        }
        catch (JsonException e)
        {
            // The reader's advice to change its options is for programmers, not for the file's owner.
            return e.Message.Replace(" Change the reader options.", "", StringComparison.Ordinal);
        }
    }

    /// <summary>Decodes the current string or property name; false when its escapes are not valid UTF-16.</summary>
    public static bool TryGetString(ref Utf8JsonReader reader, out string value)
    {
        try
        {
            value = reader.GetString() ?? "";
            return true;
        }
        catch (InvalidOperationException)
        {
            // GetString refuses escapes such as "\ud800" that decode to an unpaired surrogate.
            value = "";
            return false;
        }
    }

    /// <summary>
    /// Reads the current token as a non-negative integer written as plain digits (no sign, fraction
    /// or exponent: "2.0" and "1e3" are not integers here, as they are not for serde's u64).
    /// </summary>
    /// <returns>null on success, else the problem, naming <paramref name="what"/>.</returns>
    public static string? TryReadNonNegativeInteger(ref Utf8JsonReader reader, string what, out long value)
    {
        value = 0;
        if (reader.TokenType != JsonTokenType.Number)
            return $"{what} must be an integer, found {Describe(reader.TokenType)}";
        ReadOnlySpan<byte> raw = reader.ValueSpan;
        if (raw.Length > 0 && raw[0] == (byte)'-')
            return $"{what} is negative ({QuoteRaw(raw)})";
        if (raw.IndexOfAny((byte)'.', (byte)'e', (byte)'E') >= 0)
            return $"{what} is {QuoteRaw(raw)}, not an integer";
        if (!Utf8Parser.TryParse(raw, out long parsed, out int consumed) || consumed != raw.Length)
            return $"{what} is {QuoteRaw(raw)}, larger than the largest supported value {long.MaxValue}";
        value = parsed;
        return null;
    }

    /// <summary>A token kind in words, for messages.</summary>
    public static string Describe(JsonTokenType token) => token switch
    {
        JsonTokenType.StartObject => "an object",
        JsonTokenType.StartArray => "an array",
        JsonTokenType.String => "a string",
        JsonTokenType.Number => "a number",
        JsonTokenType.True or JsonTokenType.False => "a boolean",
        JsonTokenType.Null => "null",
        _ => token.ToString(),
    };

    /// <summary>A JSON value kind in words, for messages.</summary>
    public static string Describe(JsonValueKind kind) => kind switch
    {
        JsonValueKind.Object => "an object",
        JsonValueKind.Array => "an array",
        JsonValueKind.String => "a string",
        JsonValueKind.Number => "a number",
        JsonValueKind.True or JsonValueKind.False => "a boolean",
        JsonValueKind.Null => "null",
        _ => kind.ToString(),
    };

    /// <summary>Text from the file, quoted and shortened for a message (names can be megabytes long).</summary>
    public static string Quote(string text) =>
        text.Length <= MaxQuotedChars ? $"'{text}'" : $"'{text[..MaxQuotedChars]}...' ({text.Length} chars)";

    private static string QuoteRaw(ReadOnlySpan<byte> raw) =>
        raw.Length <= 40 ? Encoding.UTF8.GetString(raw) : Encoding.UTF8.GetString(raw[..40]) + $"... ({raw.Length} digits)";
}
