using PeftNative.Models.Tokenization;
using PeftNative.Tests.SafeTensors;

namespace PeftNative.Tests.Models.Tokenization;

/// <summary>SentencePiece tokenizer.model files built in the test, against a plain reference of SentencePiece's BPE.</summary>
public class SentencePieceTokenizerTests
{
    private const string Space = "\u2581";

    /// <summary>Specials, the characters, and merged pieces whose scores order the merges (higher first).</summary>
    private static SentencePieceModelBuilder BpeModel()
    {
        var b = new SentencePieceModelBuilder { ModelType = SentencePieceModelBuilder.Bpe }
            .Add("<unk>", 0, SentencePieceModelBuilder.Unknown)
            .Add("<s>", 0, SentencePieceModelBuilder.Control)
            .Add("</s>", 0, SentencePieceModelBuilder.Control);
        float score = -1;
        foreach (string merged in (string[])[Space + "t", "he", Space + "the", "at", Space + "c", Space + "cat", "er", Space + "s", "it", Space + "sat", "th", "ca"])
            b.Add(merged, score--);
        foreach (string c in (string[])[Space, "t", "h", "e", "c", "a", "s", "i", "r", "o", "n", "d", "g"])
            b.Add(c, score--);
        return b;
    }

    /// <summary>SentencePiece BPE as its bpe_model.cc does it: escape spaces, prefix ▁, then repeatedly merge the adjacent pair whose union is the highest-scoring piece.</summary>
    private static List<int> ReferenceEncode(SentencePieceModelBuilder model, string text)
    {
        var scores = model.Pieces.Select((p, i) => (p, i)).Where(x => x.p.Type == SentencePieceModelBuilder.Normal).ToDictionary(x => x.p.Piece, x => (x.p.Score, x.i));
        var symbols = (Space + text.Replace(" ", Space, StringComparison.Ordinal)).Select(c => c.ToString()).ToList();
        while (true)
        {
            int best = -1;
            float bestScore = float.NegativeInfinity;
            for (int i = 0; i + 1 < symbols.Count; i++)
            {
                if (scores.TryGetValue(symbols[i] + symbols[i + 1], out var s) && s.Score > bestScore)
                {
                    bestScore = s.Score;
                    best = i;
                }
            }
            if (best < 0)
                break;
            symbols[best] += symbols[best + 1];
            symbols.RemoveAt(best + 1);
        }
        return symbols.Select(s => scores.TryGetValue(s, out var x) ? x.i : model.IdOf("<unk>")).ToList();
    }

    private static TextTokenizer LoadFrom(TempDir dir, SentencePieceModelBuilder model, string? tokenizerConfig = null)
    {
        File.WriteAllBytes(dir.File("tokenizer.model"), model.Build());
        if (tokenizerConfig is not null)
            File.WriteAllText(dir.File("tokenizer_config.json"), tokenizerConfig);
        return TextTokenizer.Load(dir.Path);
    }

    [TestCase("the cat sat")]
    [TestCase("cat")]
    [TestCase("the  hat sits there")]
    [TestCase("gone dogs")]
    public void Bpe_MatchesTheReference_AndDecodes(string text)
    {
        using var dir = new TempDir();
        var model = BpeModel();
        var tok = LoadFrom(dir, model);
        using (Assert.EnterMultipleScope())
        {
            Assert.That(tok.Kind, Is.EqualTo(TokenizerKind.SentencePiece));
            Assert.That(tok.AddsBos, Is.True, "without tokenizer_config, LLaMA's tokenizer adds BOS");
            Assert.That(tok.BosTokenId, Is.EqualTo(1));
            Assert.That(tok.EosTokenId, Is.EqualTo(2));
            Assert.That(tok.Encode(text), Is.EqualTo(new[] { 1 }.Concat(ReferenceEncode(model, text))));
            Assert.That(tok.Encode(text, addSpecialTokens: false), Is.EqualTo(ReferenceEncode(model, text)));
            Assert.That(tok.Decode(tok.Encode(text), skipSpecialTokens: true), Is.EqualTo(text));
        }
    }

    [Test]
    public void Bpe_KnownPieces()
    {
        using var dir = new TempDir();
        var model = BpeModel();
        var tok = LoadFrom(dir, model);
        Assert.That(tok.Encode("the cat", addSpecialTokens: false), Is.EqualTo(new[] { model.IdOf(Space + "the"), model.IdOf(Space + "cat") }));
    }

    [Test]
    public void AddBosToken_FromTokenizerConfig()
    {
        using var dir = new TempDir();
        var tok = LoadFrom(dir, BpeModel(), """{"add_bos_token": false, "eos_token": {"content": "</s>"}}""");
        using (Assert.EnterMultipleScope())
        {
            Assert.That(tok.AddsBos, Is.False);
            Assert.That(tok.Encode("cat")[0], Is.Not.EqualTo(1));
            Assert.That(tok.EosTokenId, Is.EqualTo(2));
        }
    }

    [Test]
    public void Unigram_PicksTheBestScoringSegmentation()
    {
        using var dir = new TempDir();
        var model = new SentencePieceModelBuilder { ModelType = SentencePieceModelBuilder.Unigram }
            .Add("<unk>", 0, SentencePieceModelBuilder.Unknown)
            .Add("<s>", 0, SentencePieceModelBuilder.Control)
            .Add("</s>", 0, SentencePieceModelBuilder.Control)
            .Add(Space + "cat", -1.0f).Add(Space + "ca", -3.0f).Add("t", -3.0f).Add(Space, -4.0f)
            .Add("c", -5.0f).Add("a", -5.0f).Add("s", -5.0f).Add(Space + "s", -2.5f);
        var tok = LoadFrom(dir, model);
        using (Assert.EnterMultipleScope())
        {
            // "▁cat" (-1) beats "▁ca"+"t" (-6) and the single characters.
            Assert.That(tok.Encode("cat", addSpecialTokens: false), Is.EqualTo(new[] { model.IdOf(Space + "cat") }));
            Assert.That(tok.Encode("cat cats", addSpecialTokens: false),
                Is.EqualTo(new[] { model.IdOf(Space + "cat"), model.IdOf(Space + "cat"), model.IdOf("s") }));
            Assert.That(tok.Decode(tok.Encode("cat cats"), skipSpecialTokens: true), Is.EqualTo("cat cats"));
        }
    }
}
