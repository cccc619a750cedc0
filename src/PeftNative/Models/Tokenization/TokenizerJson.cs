using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.ML.Tokenizers;

namespace PeftNative.Models.Tokenization;

/// <summary>
/// Reads a Hugging Face fast-tokenizer file (tokenizer.json) where Microsoft.ML.Tokenizers can
/// reproduce it: a byte-level BPE model (GPT-2, Qwen2, LLaMA 3), with a ByteLevel pre-tokenizer
/// alone or after one Split regex, and no normalizer (or NFC). Anything else (WordPiece, Unigram,
/// SentencePiece-style BPE with byte fallback, other normalizers) is refused with the reason.
/// </summary>
internal static class TokenizerJson
{
    /// <summary>What the file describes: the tokenizer and the special token its post-processor puts first, if any.</summary>
    public sealed record Contents(BpeTokenizer Tokenizer, IReadOnlyDictionary<string, int> AddedTokens, int? TemplateBosId, bool NormalizeNfc);

    /// <exception cref="TokenizerFormatException">Not valid JSON, or a tokenizer this build cannot reproduce (the message says which part).</exception>
    public static Contents Load(string path, IReadOnlyDictionary<string, int> configAddedTokens)
    {
        JsonObject root;
        try
        {
            root = JsonNode.Parse(File.ReadAllText(path)) as JsonObject ?? throw new TokenizerFormatException(path, "is not a JSON object");
        }
        catch (JsonException e)
        {
            throw new TokenizerFormatException(path, $"is not valid JSON ({e.Message})", e);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new TokenizerFormatException(path, $"cannot be read ({e.Message})", e);
        }

        var model = root["model"] as JsonObject ?? throw new TokenizerFormatException(path, "has no \"model\" object");
        string modelType = (string?)model["type"] ?? "BPE";
        if (modelType != "BPE")
            throw Unsupported(path, $"model type {modelType}");
        if (model["byte_fallback"] is JsonValue fallback && fallback.TryGetValue(out bool bf) && bf)
            throw Unsupported(path, "a BPE model with byte_fallback (SentencePiece-style; use the model's tokenizer.model)");
        foreach (string key in (string[])["continuing_subword_prefix", "end_of_word_suffix"])
        {
            if (model[key] is JsonValue v && v.TryGetValue(out string? s) && s.Length > 0)
                throw Unsupported(path, $"a BPE model with {key} \"{s}\"");
        }
        string pattern = PreTokenizerPattern(path, root["pre_tokenizer"]);
        bool nfc = false;
        if (root["normalizer"] is JsonObject normalizer)
        {
            if ((string?)normalizer["type"] != "NFC")
                throw Unsupported(path, $"the {(string?)normalizer["type"]} normalizer");
            nfc = true;
        }

        var vocab = new Dictionary<string, int>(StringComparer.Ordinal);
        if (model["vocab"] is not JsonObject vocabObject)
            throw new TokenizerFormatException(path, "model.vocab is not an object of token -> id");
        foreach (var (token, idNode) in vocabObject)
        {
            if (idNode is not JsonValue idValue || !idValue.TryGetValue(out int id) || id < 0)
                throw new TokenizerFormatException(path, $"model.vocab: token {PythonJson.Quote(token)} has no whole-number id");
            vocab[token] = id;
        }
        var merges = new List<string>();
        foreach (var m in model["merges"] as JsonArray ?? throw new TokenizerFormatException(path, "model.merges is not a list"))
        {
            // Older files write "a b", newer ones ["a", "b"].
            string? merge = m switch
            {
                JsonValue v when v.TryGetValue(out string? s) => s,
                JsonArray { Count: 2 } pair when pair[0] is JsonValue a && pair[1] is JsonValue b => $"{(string?)a} {(string?)b}",
                _ => null,
            };
            if (merge is null || merge.Split(' ').Length != 2)
                throw new TokenizerFormatException(path, $"model.merges entry {m?.ToJsonString()} is not a pair");
            merges.Add(merge);
        }

        var added = new Dictionary<string, int>(configAddedTokens, StringComparer.Ordinal);
        if (root["added_tokens"] is JsonArray addedTokens)
        {
            foreach (var t in addedTokens)
            {
                if (t is JsonObject o && (string?)o["content"] is { } content && o["id"] is JsonValue idv && idv.TryGetValue(out int id))
                    added[content] = id;
            }
        }
        var tokenizer = ByteLevelBpe.Create(vocab, merges, pattern, added, path);
        return new Contents(tokenizer, added, TemplateFirstSpecialToken(root["post_processor"], added, vocab), nfc);
    }

    /// <summary>The regex of the pre-tokenizer: ByteLevel (GPT-2's pattern when use_regex), or Split(regex) then ByteLevel without its own regex.</summary>
    private static string PreTokenizerPattern(string path, JsonNode? node)
    {
        if (node is not JsonObject pre)
            throw Unsupported(path, "a missing pre-tokenizer (byte-level BPE needs ByteLevel)");
        string? type = (string?)pre["type"];
        if (type == "ByteLevel")
        {
            CheckByteLevel(path, pre);
            return PreTokenizerPatterns.Gpt2;
        }
        if (type == "Sequence" && pre["pretokenizers"] is JsonArray { Count: 2 } seq
            && seq[0] is JsonObject split && (string?)split["type"] == "Split"
            && seq[1] is JsonObject byteLevel && (string?)byteLevel["type"] == "ByteLevel")
        {
            CheckByteLevel(path, byteLevel);
            if (byteLevel["use_regex"] is JsonValue r && r.TryGetValue(out bool useRegex) && useRegex)
                throw Unsupported(path, "a Split pre-tokenizer followed by ByteLevel with its own regex");
            if ((string?)split["behavior"] != "Isolated" || (split["invert"] is JsonValue inv && inv.TryGetValue(out bool invert) && invert))
                throw Unsupported(path, $"a Split pre-tokenizer with behavior {(string?)split["behavior"]}");
            return (string?)split["pattern"]?["Regex"] ?? throw Unsupported(path, "a Split pre-tokenizer without a Regex pattern");
        }
        throw Unsupported(path, $"the pre-tokenizer {pre.ToJsonString()[..Math.Min(120, pre.ToJsonString().Length)]}");
    }

    private static void CheckByteLevel(string path, JsonObject byteLevel)
    {
        if (byteLevel["add_prefix_space"] is JsonValue v && v.TryGetValue(out bool prefix) && prefix)
            throw Unsupported(path, "a ByteLevel pre-tokenizer with add_prefix_space");
    }

    /// <summary>The id of the special token a TemplateProcessing post-processor puts before a single sequence (LLaMA 3's BOS).</summary>
    private static int? TemplateFirstSpecialToken(JsonNode? node, Dictionary<string, int> added, Dictionary<string, int> vocab)
    {
        JsonObject? template = node as JsonObject;
        if ((string?)template?["type"] == "Sequence" && template!["processors"] is JsonArray processors)
            template = processors.OfType<JsonObject>().FirstOrDefault(p => (string?)p["type"] == "TemplateProcessing");
        if ((string?)template?["type"] != "TemplateProcessing" || template!["single"] is not JsonArray { Count: > 0 } single)
            return null;
        if ((string?)single[0]?["SpecialToken"]?["id"] is not { } token)
            return null;
        return added.TryGetValue(token, out int id) ? id : vocab.TryGetValue(token, out id) ? id : null;
    }

    private static TokenizerFormatException Unsupported(string path, string what) =>
        new(path, $"unsupported tokenizer: {what}. Supported: byte-level BPE in tokenizer.json, vocab.json + merges.txt, or a SentencePiece tokenizer.model");
}
