using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.ML.Tokenizers;

namespace PeftNative.Models.Tokenization;

/// <summary>
/// Builds byte-level BPE tokenizers (GPT-2's scheme) on <see cref="BpeTokenizer"/> with
/// <c>ByteLevel = true</c> and a regex pre-tokenizer. Not CodeGenTokenizer: that one maps runs of
/// spaces to CodeGen-only ids (>= 50257) that GPT-2's vocabulary does not have.
/// </summary>
internal static class ByteLevelBpe
{
    /// <summary>Reads vocab.json (token -> id) and merges.txt ("a b" per line, an optional #version header).</summary>
    /// <exception cref="TokenizerFormatException">A file is missing, not the expected format, or names a token twice.</exception>
    public static BpeTokenizer FromFiles(string vocabJson, string mergesTxt, string pattern, IReadOnlyDictionary<string, int> specialTokens)
    {
        var vocab = ReadVocabulary(vocabJson);
        var merges = ReadMerges(mergesTxt);
        return Create(vocab, merges, pattern, specialTokens, vocabJson);
    }

    /// <summary>A tokenizer from an in-memory vocabulary and merge list ("a b" strings in priority order).</summary>
    /// <exception cref="TokenizerFormatException">The library refused the data (the message names <paramref name="sourcePath"/>).</exception>
    public static BpeTokenizer Create(Dictionary<string, int> vocab, List<string> merges, string pattern,
        IReadOnlyDictionary<string, int> specialTokens, string sourcePath)
    {
        var special = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var (text, id) in specialTokens)
            special[text] = id;
        Regex regex;
        try
        {
            regex = new Regex(pattern, RegexOptions.Compiled | RegexOptions.CultureInvariant, TimeSpan.FromSeconds(10));
        }
        catch (ArgumentException e)
        {
            throw new TokenizerFormatException(sourcePath, $"the pre-tokenizer pattern is not a regular expression .NET accepts ({e.Message})", e);
        }
        var options = new BpeOptions(vocab)
        {
            Merges = merges,
            ByteLevel = true,
            PreTokenizer = new RegexPreTokenizer(regex, special.Count > 0 ? special : null),
            SpecialTokens = special.Count > 0 ? special : null,
        };
        try
        {
            return BpeTokenizer.Create(options);
        }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException or FormatException)
        {
            throw new TokenizerFormatException(sourcePath, $"not a usable byte-level BPE vocabulary ({e.Message})", e);
        }
    }

    private static Dictionary<string, int> ReadVocabulary(string path)
    {
        var vocab = new Dictionary<string, int>(StringComparer.Ordinal);
        try
        {
            using var doc = JsonDocument.Parse(ReadBytes(path));
            if (doc.RootElement.ValueKind != JsonValueKind.Object)
                throw new TokenizerFormatException(path, "is not a JSON object of token -> id");
            var ids = new HashSet<int>();
            foreach (var p in doc.RootElement.EnumerateObject())
            {
                if (p.Value.ValueKind != JsonValueKind.Number || !p.Value.TryGetInt32(out int id) || id < 0)
                    throw new TokenizerFormatException(path, $"token {PythonJson.Quote(p.Name)} has id {p.Value.GetRawText()}, not a whole number >= 0");
                if (!ids.Add(id))
                    throw new TokenizerFormatException(path, $"id {id} is given to two tokens (the second is {PythonJson.Quote(p.Name)})");
                vocab[p.Name] = id;
            }
        }
        catch (JsonException e)
        {
            throw new TokenizerFormatException(path, $"is not valid JSON ({e.Message})", e);
        }
        if (vocab.Count == 0)
            throw new TokenizerFormatException(path, "holds no tokens");
        return vocab;
    }

    private static List<string> ReadMerges(string path)
    {
        var merges = new List<string>();
        int lineNumber = 0;
        foreach (string raw in ReadLines(path))
        {
            lineNumber++;
            string line = raw.TrimEnd('\r');
            if (line.Length == 0 || (lineNumber == 1 && line.StartsWith("#version", StringComparison.Ordinal)))
                continue;
            int space = line.IndexOf(' ', StringComparison.Ordinal);
            if (space <= 0 || space == line.Length - 1 || line.IndexOf(' ', space + 1) >= 0)
                throw new TokenizerFormatException(path, $"line {lineNumber} is not a merge \"a b\": {PythonJson.Quote(line.Length > 80 ? line[..80] : line)}");
            merges.Add(line);
        }
        return merges;
    }

    private static byte[] ReadBytes(string path)
    {
        try
        {
            return File.ReadAllBytes(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new TokenizerFormatException(path, $"cannot be read ({e.Message})", e);
        }
    }

    private static string[] ReadLines(string path)
    {
        try
        {
            return File.ReadAllLines(path, new System.Text.UTF8Encoding(false, throwOnInvalidBytes: true));
        }
        catch (System.Text.DecoderFallbackException e)
        {
            throw new TokenizerFormatException(path, "is not UTF-8 text", e);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new TokenizerFormatException(path, $"cannot be read ({e.Message})", e);
        }
    }
}
