using System.Text;
using PeftNative.Models.Tokenization;

namespace PeftNative.Tests.Models.Tokenization;

/// <summary>GPT-2 byte-level BPE from the real vocab.json + merges.txt of a GPT-2 adapter fixture, against known ids and a plain reference.</summary>
public class Gpt2BpeTokenizerTests
{
    private static string Dir => Fixtures.RealAdapter("gpt2-tigrinya-lora");

    private static TextTokenizer Load() => TextTokenizer.Load(Dir);

    [Test]
    public void KnownIds_AndSpecialTokens()
    {
        var tok = Load();
        using (Assert.EnterMultipleScope())
        {
            Assert.That(tok.Kind, Is.EqualTo(TokenizerKind.ByteLevelBpe));
            Assert.That(tok.SourcePath, Does.EndWith("vocab.json"));
            Assert.That(tok.Encode("Hello world, this is a test."), Is.EqualTo(new[] { 15496, 995, 11, 428, 318, 257, 1332, 13 }));
            Assert.That(tok.BosTokenId, Is.EqualTo(50256));
            Assert.That(tok.EosTokenId, Is.EqualTo(50256));
            Assert.That(tok.AddsBos, Is.False, "GPT-2's tokenizer_config has no add_bos_token: GPT2Tokenizer adds none");
            Assert.That(tok.Encode("<|endoftext|>"), Is.EqualTo(new[] { 50256 }), "an added special token is one id");
            Assert.That(tok.Decode([15496, 995]), Is.EqualTo("Hello world"));
        }
    }

    [TestCase("a  b")]
    [TestCase("hello   world")]
    [TestCase("    indented code\n\n\tand tabs  \n")]
    [TestCase("trailing spaces    ")]
    [TestCase("  ")]
    [TestCase("x \n y")]
    public void RunsOfSpaces_MatchTheReference_AndStayInGpt2Vocabulary(string text)
    {
        var tok = Load();
        var reference = new ReferenceByteLevelBpe(Path.Combine(Dir, "vocab.json"), Path.Combine(Dir, "merges.txt"));
        var ids = tok.Encode(text);
        using (Assert.EnterMultipleScope())
        {
            Assert.That(ids, Is.EqualTo(reference.Encode(text)));
            Assert.That(ids, Has.All.LessThan(50257), "no CodeGen-only whitespace ids");
            Assert.That(tok.Decode(ids), Is.EqualTo(text));
        }
    }

    [Test]
    public void RandomUnicode_RoundTrips_AndMatchesTheReference()
    {
        var tok = Load();
        var reference = new ReferenceByteLevelBpe(Path.Combine(Dir, "vocab.json"), Path.Combine(Dir, "merges.txt"));
        var rng = RandomTensors.For("gpt2 bpe random unicode");
        for (int trial = 0; trial < 200; trial++)
        {
            string text = RandomText(rng, rng.Next(0, 60));
            var ids = tok.Encode(text);
            Assert.That(ids, Is.EqualTo(reference.Encode(text)), $"text {Escape(text)}");
            Assert.That(tok.Decode(ids), Is.EqualTo(text), $"round trip of {Escape(text)}");
        }
    }

    [Test]
    public void EncodeContinuation_SplitsAtThePromptsTokens()
    {
        var tok = Load();
        using (Assert.EnterMultipleScope())
        {
            Assert.That(tok.EncodeContinuation("The capital of France is", " Paris"), Is.EqualTo(tok.Encode(" Paris")));
            // "Hello" + "world" merges across the seam differently from "world" alone
            int[] whole = tok.Encode("The cat sat"), head = tok.Encode("The cat");
            Assert.That(tok.EncodeContinuation("The cat", " sat"), Is.EqualTo(whole[head.Length..]));
        }
    }

    /// <summary>Text from a mix of ASCII, whitespace runs, Latin-1, CJK, Ge'ez, combining marks and astral characters (valid UTF-16 only).</summary>
    internal static string RandomText(Random rng, int length)
    {
        var sb = new StringBuilder();
        string[] pool = ["a", "Z", "7", " ", "  ", "\n", "\t", "'s", ".", ",", "é", "ß", "\u0301", "ሰላም", "中文", "😀", "\U0001F9EC", "ÿ", "\u00A0", "\r\n"];
        while (sb.Length < length)
        {
            if (rng.Next(3) == 0)
                sb.Append(pool[rng.Next(pool.Length)]);
            else
                sb.Append(char.ConvertFromUtf32(rng.Next(4) switch { 0 => rng.Next(0x20, 0x7F), 1 => rng.Next(0xA0, 0x2000), 2 => rng.Next(0x3000, 0xD7FF), _ => rng.Next(0x10000, 0x1FFFF) }));
        }
        return sb.ToString();
    }

    internal static string Escape(string s) => System.Text.Json.JsonSerializer.Serialize(s);
}
