using PeftNative.Models.Tokenization;
using PeftNative.Tests.SafeTensors;

namespace PeftNative.Tests.Models.Tokenization;

/// <summary>Missing and garbage tokenizer files get a clear exception naming the file.</summary>
public class TokenizerErrorTests
{
    [Test]
    public void MissingDirectory_AndNoTokenizer()
    {
        using var dir = new TempDir();
        using (Assert.EnterMultipleScope())
        {
            Assert.That(() => TextTokenizer.Load(dir.File("absent")), Throws.TypeOf<DirectoryNotFoundException>());
            Assert.That(() => TextTokenizer.Load(dir.Path), Throws.TypeOf<TokenizerFormatException>().With.Message.Contain("has no tokenizer"));
            File.WriteAllText(dir.File("vocab.json"), "{\"a\": 0}");
            Assert.That(() => TextTokenizer.Load(dir.Path), Throws.TypeOf<TokenizerFormatException>().With.Message.Contain("has no tokenizer"),
                "vocab.json without merges.txt is not a tokenizer");
        }
    }

    [TestCase(new byte[] { 0xFF, 0xFF, 0xFF, 0xFF, 0x0F })]
    [TestCase(new byte[] { 0x0A, 0x50, 0x01 })] // a length running past the end
    [TestCase(new byte[] { })]
    public void GarbageTokenizerModel_NamesTheFile(byte[] bytes)
    {
        using var dir = new TempDir();
        File.WriteAllBytes(dir.File("tokenizer.model"), bytes);
        var e = Assert.Throws<TokenizerFormatException>(() => TextTokenizer.Load(dir.Path))!;
        Assert.That(e.FilePath, Is.EqualTo(dir.File("tokenizer.model")));
    }

    [Test]
    public void RandomBytesAsTokenizerModel_NeverCrash()
    {
        var rng = RandomTensors.For("garbage tokenizer.model");
        using var dir = new TempDir();
        for (int i = 0; i < 50; i++)
        {
            var bytes = new byte[rng.Next(1, 300)];
            rng.NextBytes(bytes);
            File.WriteAllBytes(dir.File("tokenizer.model"), bytes);
            try
            {
                TextTokenizer.Load(dir.Path).Encode("abc");
            }
            catch (TokenizerFormatException e)
            {
                Assert.That(e.FilePath, Is.EqualTo(dir.File("tokenizer.model")));
            }
        }
    }

    [TestCase("vocab.json", "not json", "vocab.json: is not valid JSON")]
    [TestCase("vocab.json", "[1,2]", "not a JSON object")]
    [TestCase("vocab.json", "{\"a\": -1}", "not a whole number >= 0")]
    [TestCase("vocab.json", "{\"a\": 0, \"b\": 0}", "id 0 is given to two tokens")]
    [TestCase("vocab.json", "{}", "holds no tokens")]
    [TestCase("merges.txt", "#version: 0.2\na b\nabc\n", "merges.txt: line 3")]
    [TestCase("tokenizer_config.json", "{\"add_bos_token\": \"yes\"}", "'add_bos_token' must be true or false")]
    [TestCase("tokenizer_config.json", "{oops", "tokenizer_config.json: is not valid JSON")]
    public void BrokenBpeFiles_NameTheFileAndProblem(string file, string content, string reason)
    {
        using var dir = new TempDir();
        File.WriteAllText(dir.File("vocab.json"), "{\"a\": 0, \"b\": 1, \"ab\": 2}");
        File.WriteAllText(dir.File("merges.txt"), "#version: 0.2\na b\n");
        File.WriteAllText(dir.File(file), content);
        var e = Assert.Throws<TokenizerFormatException>(() => TextTokenizer.Load(dir.Path))!;
        Assert.That(e.Message, Does.Contain(reason));
        Assert.That(e.FilePath, Is.EqualTo(dir.File(file)));
    }

    [Test]
    public void SmallBpe_Works_WhenTheFilesAreFine()
    {
        using var dir = new TempDir();
        // byte-level symbols: 'a', 'b', 'Ġ' (space)
        File.WriteAllText(dir.File("vocab.json"), "{\"a\": 0, \"b\": 1, \"ab\": 2, \"\u0120\": 3, \"\u0120ab\": 4, \"\u0120a\": 5}");
        File.WriteAllText(dir.File("merges.txt"), "#version: 0.2\na b\n\u0120 ab\n\u0120 a\n");
        var tok = TextTokenizer.Load(dir.Path);
        using (Assert.EnterMultipleScope())
        {
            Assert.That(tok.Encode("ab ab a"), Is.EqualTo(new[] { 2, 4, 5 }));
            Assert.That(tok.Decode([2, 4, 5]), Is.EqualTo("ab ab a"));
        }
    }
}
