using PeftNative.Adapters;
using PeftNative.Models;

namespace PeftNative.Tests.Models;

/// <summary>Model directories refused before weights are opened, and tokenizer file discovery.</summary>
[TestFixture]
public class ModelDirectoryErrorTests
{
    private string _dir = "";

    [SetUp]
    public void SetUp() => _dir = Directory.CreateTempSubdirectory("peftnative-model-").FullName;

    [TearDown]
    public void TearDown() => Directory.Delete(_dir, recursive: true);

    [Test]
    public void Missing()
    {
        Assert.Throws<DirectoryNotFoundException>(() => HuggingFaceModelDirectory.Open(Path.Combine(_dir, "none")));
        var e = Assert.Throws<AdapterFormatException>(() => HuggingFaceModelDirectory.Open(_dir))!;
        Assert.That(e.Message, Does.Contain("no config.json"));
    }

    [Test]
    public void PickleOnly()
    {
        File.WriteAllText(Path.Combine(_dir, "config.json"), """{"model_type": "gpt2"}""");
        File.WriteAllBytes(Path.Combine(_dir, "pytorch_model.bin"), [0x80]);
        var e = Assert.Throws<AdapterFormatException>(() => HuggingFaceModelDirectory.Open(_dir))!;
        Assert.That(e.Message, Does.Contain("pickle").And.Contain("safe_serialization=True"));
    }

    [Test]
    public void NoWeights()
    {
        File.WriteAllText(Path.Combine(_dir, "config.json"), """{"model_type": "gpt2"}""");
        Assert.That(Assert.Throws<AdapterFormatException>(() => HuggingFaceModelDirectory.Open(_dir))!.Message, Does.Contain("no .safetensors"));
    }

    [Test]
    public void TokenizerFiles_Found()
    {
        Assert.That(TokenizerFiles.Find(_dir).HasTokenizer, Is.False);
        foreach (string f in new[] { "vocab.json", "merges.txt", "tokenizer_config.json", "special_tokens_map.json" })
            File.WriteAllText(Path.Combine(_dir, f), "{}");
        var t = TokenizerFiles.Find(_dir);
        Assert.That(t.HasTokenizer, Is.True);
        Assert.That(t.VocabJson, Is.EqualTo(Path.Combine(_dir, "vocab.json")));
        Assert.That(t.MergesTxt, Is.EqualTo(Path.Combine(_dir, "merges.txt")));
        Assert.That((t.TokenizerJson, t.SentencePieceModel), Is.EqualTo(((string?)null, (string?)null)));
        Assert.That(t.SpecialTokensMapJson, Is.Not.Null);
        var real = TokenizerFiles.Find(Fixtures.RealAdapter("gpt2-tigrinya-lora"));
        Assert.That((real.VocabJson is not null, real.MergesTxt is not null, real.TokenizerConfigJson is not null), Is.EqualTo((true, true, true)));
    }
}
