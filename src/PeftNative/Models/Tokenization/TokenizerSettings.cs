using System.Text.Json;
using System.Text.Json.Nodes;

namespace PeftNative.Models.Tokenization;

/// <summary>
/// What tokenizer_config.json and special_tokens_map.json say about special tokens: whether a
/// beginning-of-sequence token is prepended (<c>add_bos_token</c>), the BOS and EOS token texts, and
/// the added tokens with their ids (<c>added_tokens_decoder</c>). Absent files give empty settings.
/// </summary>
internal sealed record TokenizerSettings(bool? AddBosToken, bool? AddEosToken, string? BosToken, string? EosToken,
    IReadOnlyDictionary<string, int> AddedTokens)
{
    public static readonly TokenizerSettings Empty = new(null, null, null, null, new Dictionary<string, int>());

    /// <summary>Reads the settings; the special tokens map fills what the config leaves out.</summary>
    /// <exception cref="TokenizerFormatException">A file is not valid JSON or holds values of the wrong kind.</exception>
    public static TokenizerSettings Load(string? tokenizerConfigJson, string? specialTokensMapJson)
    {
        var config = ReadObject(tokenizerConfigJson);
        var map = ReadObject(specialTokensMapJson);
        var added = new Dictionary<string, int>(StringComparer.Ordinal);
        if (config?["added_tokens_decoder"] is JsonObject decoder)
        {
            foreach (var (idText, entry) in decoder)
            {
                if (!int.TryParse(idText, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int id))
                    throw new TokenizerFormatException(tokenizerConfigJson!, $"added_tokens_decoder key '{idText}' is not a token id");
                if (TokenText(entry, tokenizerConfigJson!, "added_tokens_decoder." + idText) is { } content)
                    added[content] = id;
            }
        }
        return new TokenizerSettings(
            Bool(config, "add_bos_token", tokenizerConfigJson),
            Bool(config, "add_eos_token", tokenizerConfigJson),
            TokenText(config?["bos_token"], tokenizerConfigJson, "bos_token") ?? TokenText(map?["bos_token"], specialTokensMapJson, "bos_token"),
            TokenText(config?["eos_token"], tokenizerConfigJson, "eos_token") ?? TokenText(map?["eos_token"], specialTokensMapJson, "eos_token"),
            added);
    }

    private static JsonObject? ReadObject(string? path)
    {
        if (path is null)
            return null;
        try
        {
            return JsonNode.Parse(File.ReadAllText(path)) as JsonObject
                ?? throw new TokenizerFormatException(path, "is not a JSON object");
        }
        catch (JsonException e)
        {
            throw new TokenizerFormatException(path, $"is not valid JSON ({e.Message})", e);
        }
    }

    private static bool? Bool(JsonObject? o, string key, string? path) => o?[key] switch
    {
        null => null,
        JsonValue v when v.TryGetValue(out bool b) => b,
        _ => throw new TokenizerFormatException(path!, $"'{key}' must be true or false"),
    };

    /// <summary>A token given as a string or as {"content": "..."}.</summary>
    private static string? TokenText(JsonNode? node, string? path, string key) => node switch
    {
        null => null,
        JsonValue v when v.TryGetValue(out string? s) => s,
        JsonObject o when o["content"] is JsonValue c && c.TryGetValue(out string? s) => s,
        _ => throw new TokenizerFormatException(path!, $"'{key}' must be a token string or an object with \"content\""),
    };
}
