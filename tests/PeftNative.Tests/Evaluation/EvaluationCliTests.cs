using PeftNative.Tests.SafeTensors;
using static PeftNative.Tests.Cli.CliProcess;

namespace PeftNative.Tests.Evaluation;

/// <summary><c>eval</c>, <c>score</c>, <c>generate</c> out of process: usage and input errors (exit code and one line on stderr) and help. These run before any model is loaded.</summary>
public class EvaluationCliTests
{
    private static string Gpt2 => Fixtures.ReferenceModel("gpt2-tiny/base");

    [TestCase("eval")]
    [TestCase("score")]
    [TestCase("generate")]
    public void Help_ListsTheOptions(string command)
    {
        var (rc, stdout, _) = Run(command, "--help");
        using (Assert.EnterMultipleScope())
        {
            Assert.That(rc, Is.Zero);
            Assert.That(stdout, Does.Contain("--model").And.Contain("--adapter").And.Contain("--runtime").And.Contain("EXPR"));
        }
    }

    [Test]
    public void Eval_BadUsage_ExitsWithTheUsageCode()
    {
        using (Assert.EnterMultipleScope())
        {
            AssertFails(Run("eval", "--tokens", "1,2"), 2, "--model DIR is required");
            AssertFails(Run("eval", "--model", Gpt2), 2, "exactly one of --text");
            AssertFails(Run("eval", "--model", Gpt2, "--tokens", "1,2", "--token-file", "x"), 2, "exactly one of --text");
            AssertFails(Run("eval", "--model", Gpt2, "--tokens", "1,x,2"), 2, "'x' (item 2) is not a token id");
            AssertFails(Run("eval", "--model", Gpt2, "--tokens", "1,-2"), 2, "is not a token id");
            AssertFails(Run("eval", "--model", Gpt2, "--tokens", ","), 2, "no token ids");
            AssertFails(Run("eval", "--model", Gpt2, "--tokens", "1,2", "--ctx", "1"), 2, "--ctx needs a whole number >= 2");
            AssertFails(Run("eval", "--model", Gpt2, "--tokens", "1,2", "--ctx", "abc"), 2, "abc");
            AssertFails(Run("eval", "--model", Gpt2, "--tokens", "1,2", "--stride", "0"), 2, "--stride needs");
            AssertFails(Run("eval", "--model", Gpt2, "--tokens", "1,2", "--ctx", "4", "--stride", "5"), 2, "larger than --ctx");
            AssertFails(Run("eval", "--model", Gpt2, "--tokens", "1,2", "--bogus"), 2, "--bogus");
            AssertFails(Run("eval", "--model", Gpt2, "--tokens", "1,2", "--method", "exact"), 2, "--method needs an expression");
            AssertFails(Run("eval", "--model", Gpt2, "--tokens", "1,2", "--runtime"), 2, "--runtime needs");
            AssertFails(Run("eval", "--model", Gpt2, "--tokens", "1,2", "a+b", "--adapter", "a=x"), 2, "no --adapter b=DIR");
            AssertFails(Run("eval", "--model", Gpt2, "--tokens", "1,2", "a+", "--adapter", "a=x"), 2, "bad expression");
            AssertFails(Run("eval", "--model", Gpt2, "--tokens", "1,2", "a", "--adapter", "nodir"), 2, "NAME=DIR");
            AssertFails(Run("eval", "--model", Gpt2, "--tokens", "1,2", "a", "--adapter", "a=x", "--method", "nope"), 2, "--method");
            AssertFails(Run("eval", "--model", Gpt2, "--tokens", "1,2", "--adapter", "x", "--adapter", "x"), 2, "given twice");
            AssertFails(Run("eval", "--model", Gpt2, "--tokens", "1,2", "--threads", "-1"), 2, "--threads");
        }
    }

    [Test]
    public void Eval_BadInput_ExitsWithTheInputCode()
    {
        using var dir = new TempDir();
        File.WriteAllText(dir.File("text.txt"), "hello");
        File.WriteAllBytes(dir.File("latin1.txt"), [0x68, 0xE9, 0xFF]);
        File.WriteAllText(dir.File("ids.txt"), "1 2\n3,oops");
        File.WriteAllText(dir.File("one.txt"), "7");
        using (Assert.EnterMultipleScope())
        {
            AssertFails(Run("eval", "--model", dir.File("nomodel"), "--tokens", "1,2"), 1, "model directory not found");
            AssertFails(Run("eval", "--model", Gpt2, "--text", dir.File("text.txt")), 1, "--text needs the model's tokenizer");
            AssertFails(Run("eval", "--model", Gpt2, "--token-file", dir.File("absent.txt")), 1, "--token-file");
            AssertFails(Run("eval", "--model", Gpt2, "--token-file", dir.File("ids.txt")), 1, "'oops' (item 4)");
            AssertFails(Run("eval", "--model", Gpt2, "--token-file", dir.File("one.txt")), 1, "at least 2 tokens");
            AssertFails(Run("eval", "--model", Gpt2, "--tokens", "5"), 1, "at least 2 tokens");
            AssertFails(Run("eval", "--model", Gpt2, "--tokens", "1,2", "--adapter", dir.File("noadapter")), 1, "noadapter");
            AssertFails(Run("eval", "--model", Gpt2, "--tokens", "1,2", "a", "--adapter", "a=" + dir.File("noadapter")), 1, "adapter 'a'");
        }
    }

    [Test]
    public void Score_AndGenerate_BadUsageAndInput()
    {
        using (Assert.EnterMultipleScope())
        {
            AssertFails(Run("score", "--model", Gpt2, "--choices", "a|b"), 2, "exactly one of --prompt");
            AssertFails(Run("score", "--model", Gpt2, "--prompt-tokens", "1,2"), 2, "exactly one of --choices");
            AssertFails(Run("score", "--model", Gpt2, "--prompt-tokens", "1,2", "--choice-tokens", "3|x"), 2, "choice 2");
            AssertFails(Run("score", "--model", Gpt2, "--prompt-tokens", "1,2", "--choices", "a||b"), 2, "a choice is empty");
            AssertFails(Run("score", "--model", Gpt2, "--prompt", "hi", "--choice-tokens", "3|4"), 1, "needs the model's tokenizer");
            AssertFails(Run("generate", "--model", Gpt2), 2, "exactly one of --prompt");
            AssertFails(Run("generate", "--model", Gpt2, "--prompt-tokens", "1", "--max-new-tokens", "-3"), 2, "--max-new-tokens");
            AssertFails(Run("generate", "--model", Gpt2, "--prompt", "hello"), 1, "--prompt needs the model's tokenizer");
            AssertFails(Run("generate", "--prompt-tokens", "1"), 2, "--model DIR is required");
        }
    }
}
