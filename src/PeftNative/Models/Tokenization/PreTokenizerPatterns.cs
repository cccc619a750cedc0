namespace PeftNative.Models.Tokenization;

/// <summary>The regular expressions that split text into words before byte-level BPE merges them.</summary>
internal static class PreTokenizerPatterns
{
    /// <summary>GPT-2's pattern (openai/gpt-2 encoder.py), also what a tokenizer.json ByteLevel pre-tokenizer with use_regex applies.</summary>
    public const string Gpt2 = @"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+";

    /// <summary>Qwen2's pattern (its tokenizer.json Split pre-tokenizer): single digits, case-insensitive contractions, newlines kept apart.</summary>
    public const string Qwen2 = @"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+";

    /// <summary>The pattern for vocab.json + merges.txt of a model type (GPT-2's unless the model is known to differ).</summary>
    public static string ForModelType(string? modelType) => modelType == "qwen2" ? Qwen2 : Gpt2;
}
