using System.Text;
using Microsoft.ML.Tokenizers;

namespace PeftNative.Models.Tokenization;

/// <summary>
/// Turns text into a model's token ids and back, built on Microsoft.ML.Tokenizers from the
/// tokenizer files of a Hugging Face model directory. The file picked, in order:
/// <list type="number">
/// <item>tokenizer.json when it is a byte-level BPE the library reproduces (its own pre-tokenizer regex),</item>
/// <item>tokenizer.model (SentencePiece BPE or unigram: LLaMA 1/2, Mistral),</item>
/// <item>vocab.json + merges.txt (GPT-2 byte-level BPE; Qwen2's regex when config.json says qwen2),</item>
/// <item>else tokenizer.json is refused with the part that is not supported.</item>
/// </list>
/// A beginning-of-sequence token is prepended as the model's tokenizer_config.json says
/// (<c>add_bos_token</c>); without that key, as the Hugging Face tokenizer class does by default:
/// SentencePiece yes, GPT-2 BPE no, tokenizer.json when its post-processor template starts with a
/// special token. End-of-sequence tokens are never appended.
/// </summary>
public sealed class TextTokenizer
{
    private readonly Tokenizer _tokenizer;
    private readonly bool _normalizeNfc;

    private TextTokenizer(Tokenizer tokenizer, TokenizerKind kind, string sourcePath, int? bosId, int? eosId, bool addsBos, bool normalizeNfc)
    {
        _tokenizer = tokenizer;
        Kind = kind;
        SourcePath = sourcePath;
        BosTokenId = bosId;
        EosTokenId = eosId;
        AddsBos = addsBos && bosId is not null;
        _normalizeNfc = normalizeNfc;
    }

    /// <summary>The algorithm.</summary>
    public TokenizerKind Kind { get; }

    /// <summary>The file the vocabulary came from (tokenizer.json, tokenizer.model or vocab.json).</summary>
    public string SourcePath { get; }

    /// <summary>The beginning-of-sequence token's id, when the tokenizer has one.</summary>
    public int? BosTokenId { get; }

    /// <summary>The end-of-sequence token's id, when the tokenizer has one.</summary>
    public int? EosTokenId { get; }

    /// <summary>Whether <see cref="Encode"/> prepends <see cref="BosTokenId"/> (when asked to add special tokens).</summary>
    public bool AddsBos { get; }

    /// <summary>Loads the tokenizer of a model directory; config.json's model_type, when present, picks the BPE regex for vocab.json + merges.txt.</summary>
    /// <exception cref="DirectoryNotFoundException">No such directory.</exception>
    /// <exception cref="TokenizerFormatException">No tokenizer files, or a broken or unsupported one (the message names the file).</exception>
    public static TextTokenizer Load(string modelDirectory)
    {
        ArgumentNullException.ThrowIfNull(modelDirectory);
        string dir = Path.GetFullPath(modelDirectory);
        if (!Directory.Exists(dir))
            throw new DirectoryNotFoundException($"model directory not found: {dir}");
        string configPath = Path.Combine(dir, ModelConfig.FileName);
        string? modelType = null;
        if (File.Exists(configPath))
        {
            try
            {
                modelType = ModelConfig.Load(configPath).ModelType;
            }
            catch (FileFormatException)
            {
                // The model loader reports a broken config.json; the tokenizer only needs the type as a hint.
            }
        }
        return Load(TokenizerFiles.Find(dir), modelType, dir);
    }

    /// <summary>Loads a tokenizer from files already found (see the class summary for the order).</summary>
    /// <param name="files">The files present.</param>
    /// <param name="modelType">config.json's model_type, to pick the pre-tokenizer regex for vocab.json + merges.txt (null: GPT-2's).</param>
    /// <param name="directoryForMessages">Named in the error when there are no tokenizer files.</param>
    /// <exception cref="TokenizerFormatException">No tokenizer files, or a broken or unsupported one.</exception>
    public static TextTokenizer Load(TokenizerFiles files, string? modelType = null, string? directoryForMessages = null)
    {
        ArgumentNullException.ThrowIfNull(files);
        if (!files.HasTokenizer)
            throw new TokenizerFormatException(directoryForMessages ?? "(model directory)",
                "has no tokenizer (tokenizer.json, tokenizer.model, or vocab.json + merges.txt); give token ids instead");
        var settings = TokenizerSettings.Load(files.TokenizerConfigJson, files.SpecialTokensMapJson);

        TokenizerFormatException? jsonProblem = null;
        if (files.TokenizerJson is { } json)
        {
            try
            {
                var contents = TokenizerJson.Load(json, settings.AddedTokens);
                return FromBpe(contents.Tokenizer, json, settings, contents.TemplateBosId, contents.NormalizeNfc);
            }
            catch (TokenizerFormatException e) when (files.SentencePieceModel is not null || (files.VocabJson is not null && files.MergesTxt is not null))
            {
                jsonProblem = e; // another file can do it
            }
        }
        if (files.SentencePieceModel is { } spm)
        {
            var sp = SentencePieceModelFile.Load(spm, settings.AddedTokens);
            int? bos = sp.BeginningOfSentenceId >= 0 ? sp.BeginningOfSentenceId : null;
            int? eos = sp.EndOfSentenceId >= 0 ? sp.EndOfSentenceId : null;
            bos = Lookup(sp, settings.BosToken) ?? bos;
            eos = Lookup(sp, settings.EosToken) ?? eos;
            return new TextTokenizer(sp, TokenizerKind.SentencePiece, spm, bos, eos, settings.AddBosToken ?? true, normalizeNfc: false);
        }
        if (files.VocabJson is { } vocab && files.MergesTxt is { } merges)
        {
            var bpe = ByteLevelBpe.FromFiles(vocab, merges, PreTokenizerPatterns.ForModelType(modelType), settings.AddedTokens);
            return FromBpe(bpe, vocab, settings, null, normalizeNfc: false);
        }
        throw jsonProblem ?? new TokenizerFormatException(directoryForMessages ?? "(model directory)", "has no usable tokenizer");
    }

    private static TextTokenizer FromBpe(BpeTokenizer bpe, string path, TokenizerSettings settings, int? templateBos, bool normalizeNfc)
    {
        int? bos = Lookup(bpe, settings.BosToken) ?? templateBos;
        int? eos = Lookup(bpe, settings.EosToken);
        bool addBos = settings.AddBosToken ?? templateBos is not null;
        return new TextTokenizer(bpe, TokenizerKind.ByteLevelBpe, path, bos, eos, addBos, normalizeNfc);
    }

    private static int? Lookup(Tokenizer tokenizer, string? token)
    {
        if (token is null)
            return null;
        return tokenizer switch
        {
            BpeTokenizer b => b.Vocabulary.TryGetValue(token, out int id) ? id : b.SpecialTokens?.TryGetValue(token, out id) == true ? id : null,
            SentencePieceTokenizer s => s.Vocabulary.TryGetValue(token, out int id) ? id : s.SpecialTokens?.TryGetValue(token, out id) == true ? id : null,
            _ => null,
        };
    }

    /// <summary>The token ids of <paramref name="text"/>, with the BOS token first when <see cref="AddsBos"/> and <paramref name="addSpecialTokens"/>.</summary>
    public int[] Encode(string text, bool addSpecialTokens = true)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (_normalizeNfc)
            text = text.Normalize(NormalizationForm.FormC);
        var ids = _tokenizer.EncodeToIds(text);
        if (!(addSpecialTokens && AddsBos))
            return [.. ids];
        var result = new int[ids.Count + 1];
        result[0] = BosTokenId!.Value;
        for (int i = 0; i < ids.Count; i++)
            result[i + 1] = ids[i];
        return result;
    }

    /// <summary>
    /// The tokens of <paramref name="continuation"/> when it follows <paramref name="prompt"/>, as
    /// lm-evaluation-harness splits them: encode prompt + continuation and keep what follows the
    /// prompt's own tokens, so BPE merges across the seam come out as the model would see them.
    /// When the joint encoding does not start with the prompt's tokens, the continuation is encoded alone.
    /// </summary>
    public int[] EncodeContinuation(string prompt, string continuation)
    {
        ArgumentNullException.ThrowIfNull(prompt);
        ArgumentNullException.ThrowIfNull(continuation);
        int[] head = Encode(prompt);
        int[] whole = Encode(prompt + continuation);
        if (whole.Length > head.Length && whole.AsSpan(0, head.Length).SequenceEqual(head))
            return whole[head.Length..];
        return Encode(continuation, addSpecialTokens: false);
    }

    /// <summary>The text of <paramref name="ids"/>; special tokens are written out unless <paramref name="skipSpecialTokens"/>.</summary>
    public string Decode(IEnumerable<int> ids, bool skipSpecialTokens = false)
    {
        ArgumentNullException.ThrowIfNull(ids);
        return _tokenizer switch
        {
            BpeTokenizer b => b.Decode(ids, considerSpecialTokens: !skipSpecialTokens),
            SentencePieceTokenizer s => s.Decode(ids, considerSpecialTokens: !skipSpecialTokens),
            _ => _tokenizer.Decode(ids),
        } ?? "";
    }
}
