namespace PeftNative.Models;

/// <summary>
/// The tokenizer files found in a model directory, as full paths (null when absent), for the
/// tokenizer work to pick from: a fast tokenizer (tokenizer.json), a GPT-2 style BPE
/// (vocab.json + merges.txt), or a SentencePiece model (tokenizer.model).
/// </summary>
public sealed record TokenizerFiles(
    string? TokenizerJson,
    string? VocabJson,
    string? MergesTxt,
    string? SentencePieceModel,
    string? TokenizerConfigJson,
    string? SpecialTokensMapJson)
{
    /// <summary>True when some tokenizer can be built: tokenizer.json, vocab.json with merges.txt, or tokenizer.model.</summary>
    public bool HasTokenizer => TokenizerJson is not null || (VocabJson is not null && MergesTxt is not null) || SentencePieceModel is not null;

    /// <summary>Looks for the files in <paramref name="directory"/> (not in subfolders).</summary>
    public static TokenizerFiles Find(string directory)
    {
        ArgumentNullException.ThrowIfNull(directory);
        string? At(string name)
        {
            string p = Path.Combine(directory, name);
            return File.Exists(p) ? p : null;
        }
        return new TokenizerFiles(At("tokenizer.json"), At("vocab.json"), At("merges.txt"), At("tokenizer.model"),
            At("tokenizer_config.json"), At("special_tokens_map.json"));
    }
}
