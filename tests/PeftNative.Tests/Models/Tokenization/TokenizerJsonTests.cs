using System.Text.Json.Nodes;
using PeftNative.Models.Tokenization;
using PeftNative.Tests.SafeTensors;

namespace PeftNative.Tests.Models.Tokenization;

/// <summary>tokenizer.json: byte-level BPE is read (GPT-2's vocabulary rewritten as one), other kinds are refused by name.</summary>
public class TokenizerJsonTests
{
    private static string Gpt2Dir => Fixtures.RealAdapter("gpt2-tigrinya-lora");

    /// <summary>GPT-2's vocab.json + merges.txt as a Hugging Face tokenizer.json (merges in the newer pair form when asked).</summary>
    private static JsonObject Gpt2TokenizerJson(bool pairMerges, JsonNode? preTokenizer = null, JsonNode? postProcessor = null)
    {
        var vocab = JsonNode.Parse(File.ReadAllText(Path.Combine(Gpt2Dir, "vocab.json")))!;
        var merges = new JsonArray();
        foreach (string line in File.ReadLines(Path.Combine(Gpt2Dir, "merges.txt")).Skip(1).Where(l => l.Length > 0))
            merges.Add(pairMerges ? new JsonArray(line.Split(' ')[0], line.Split(' ')[1]) : (JsonNode)line);
        return new JsonObject
        {
            ["version"] = "1.0",
            ["added_tokens"] = new JsonArray(new JsonObject { ["id"] = 50256, ["content"] = "<|endoftext|>", ["special"] = true }),
            ["normalizer"] = null,
            ["pre_tokenizer"] = preTokenizer ?? new JsonObject { ["type"] = "ByteLevel", ["add_prefix_space"] = false, ["trim_offsets"] = true, ["use_regex"] = true },
            ["post_processor"] = postProcessor,
            ["decoder"] = new JsonObject { ["type"] = "ByteLevel" },
            ["model"] = new JsonObject { ["type"] = "BPE", ["vocab"] = vocab, ["merges"] = merges, ["byte_fallback"] = false },
        };
    }

    [TestCase(false)]
    [TestCase(true)]
    public void ByteLevelBpe_GivesGpt2Ids(bool pairMerges)
    {
        using var dir = new TempDir();
        File.WriteAllText(dir.File("tokenizer.json"), Gpt2TokenizerJson(pairMerges).ToJsonString());
        var tok = TextTokenizer.Load(dir.Path);
        var fromFiles = TextTokenizer.Load(Gpt2Dir);
        var rng = RandomTensors.For("tokenizer.json gpt2");
        using (Assert.EnterMultipleScope())
        {
            Assert.That(tok.SourcePath, Does.EndWith("tokenizer.json"));
            Assert.That(tok.Encode("Hello world, this is a test."), Is.EqualTo(new[] { 15496, 995, 11, 428, 318, 257, 1332, 13 }));
            Assert.That(tok.AddsBos, Is.False);
            for (int i = 0; i < 30; i++)
            {
                string text = Gpt2BpeTokenizerTests.RandomText(rng, rng.Next(1, 40));
                Assert.That(tok.Encode(text), Is.EqualTo(fromFiles.Encode(text)), Gpt2BpeTokenizerTests.Escape(text));
            }
        }
    }

    [Test]
    public void SplitRegexThenByteLevel_UsesTheFilesRegex_AndTemplateBos()
    {
        using var dir = new TempDir();
        // Qwen2-style: one digit per token; a template that puts <|endoftext|> first (as LLaMA 3 does with its BOS)
        var pre = JsonNode.Parse("""
            {"type":"Sequence","pretokenizers":[
              {"type":"Split","pattern":{"Regex":"\\p{N}| ?\\p{L}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+"},"behavior":"Isolated","invert":false},
              {"type":"ByteLevel","add_prefix_space":false,"trim_offsets":false,"use_regex":false}]}
            """);
        var post = JsonNode.Parse("""{"type":"TemplateProcessing","single":[{"SpecialToken":{"id":"<|endoftext|>","type_id":0}},{"Sequence":{"id":"A","type_id":0}}]}""");
        File.WriteAllText(dir.File("tokenizer.json"), Gpt2TokenizerJson(false, pre, post).ToJsonString());
        var tok = TextTokenizer.Load(dir.Path);
        var gpt2 = TextTokenizer.Load(Gpt2Dir);
        using (Assert.EnterMultipleScope())
        {
            Assert.That(tok.AddsBos, Is.True);
            Assert.That(tok.BosTokenId, Is.EqualTo(50256));
            Assert.That(tok.Encode("year 2024"), Is.EqualTo(new[] { 50256 }.Concat(gpt2.Encode("year").Concat(gpt2.Encode(" ")).Concat(gpt2.Encode("2"))
                .Concat(gpt2.Encode("0")).Concat(gpt2.Encode("2")).Concat(gpt2.Encode("4")))));
            Assert.That(gpt2.Encode("year 2024"), Has.Length.LessThan(7), "GPT-2's regex keeps digits together");
        }
    }

    [TestCase("""{"model":{"type":"WordPiece","vocab":{"a":0}}}""", "model type WordPiece")]
    [TestCase("""{"model":{"type":"Unigram","vocab":[["a",0.0]]}}""", "model type Unigram")]
    [TestCase("""{"model":{"type":"BPE","vocab":{"a":0},"merges":[],"byte_fallback":true},"pre_tokenizer":null}""", "byte_fallback")]
    [TestCase("""{"model":{"type":"BPE","vocab":{"a":0},"merges":[]},"pre_tokenizer":{"type":"Metaspace"}}""", "Metaspace")]
    [TestCase("""{"model":{"type":"BPE","vocab":{"a":0},"merges":[]},"pre_tokenizer":{"type":"ByteLevel","add_prefix_space":true}}""", "add_prefix_space")]
    [TestCase("""{"model":{"type":"BPE","vocab":{"a":0},"merges":[]},"pre_tokenizer":{"type":"ByteLevel"},"normalizer":{"type":"Lowercase"}}""", "Lowercase normalizer")]
    [TestCase("""{"model":{"type":"BPE","vocab":{"a":"x"},"merges":[]},"pre_tokenizer":{"type":"ByteLevel"}}""", "no whole-number id")]
    [TestCase("""{"model":{"type":"BPE","vocab":{"a":0},"merges":["a b c"]},"pre_tokenizer":{"type":"ByteLevel"}}""", "not a pair")]
    [TestCase("""[1, 2]""", "not a JSON object")]
    [TestCase("""{"model": """, "not valid JSON")]
    public void Unsupported_OrBroken_IsRefusedNamingTheFile(string json, string reason)
    {
        using var dir = new TempDir();
        File.WriteAllText(dir.File("tokenizer.json"), json);
        var e = Assert.Throws<TokenizerFormatException>(() => TextTokenizer.Load(dir.Path))!;
        Assert.That(e.Message, Does.StartWith(dir.File("tokenizer.json")).And.Contain(reason));
    }

    [Test]
    public void UnsupportedJson_FallsBackToTokenizerModel()
    {
        using var dir = new TempDir();
        File.WriteAllText(dir.File("tokenizer.json"), """{"model":{"type":"BPE","vocab":{"a":0},"merges":[],"byte_fallback":true}}""");
        var b = new SentencePieceModelBuilder()
            .Add("<unk>", 0, SentencePieceModelBuilder.Unknown).Add("<s>", 0, SentencePieceModelBuilder.Control).Add("</s>", 0, SentencePieceModelBuilder.Control)
            .Add("\u2581a", -1).Add("\u2581", -2).Add("a", -3);
        File.WriteAllBytes(dir.File("tokenizer.model"), b.Build());
        var tok = TextTokenizer.Load(dir.Path);
        using (Assert.EnterMultipleScope())
        {
            Assert.That(tok.Kind, Is.EqualTo(TokenizerKind.SentencePiece));
            Assert.That(tok.Encode("a"), Is.EqualTo(new[] { 1, b.IdOf("\u2581a") }));
        }
    }

    [Test]
    public void NoModelObject_IsRefused()
    {
        using var dir = new TempDir();
        File.WriteAllText(dir.File("tokenizer.json"), "{}");
        Assert.That(() => TextTokenizer.Load(dir.Path), Throws.TypeOf<TokenizerFormatException>().With.Message.Contain("\"model\""));
    }
}
