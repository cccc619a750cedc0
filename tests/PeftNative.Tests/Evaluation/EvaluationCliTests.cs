using PeftNative.Cli.Commands;
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
            AssertFails(Run("eval", "--tokens", "1,2"), ExitCodes.Usage, "--model DIR is required");
            AssertFails(Run("eval", "--model", Gpt2), ExitCodes.Usage, "exactly one of --text");
            AssertFails(Run("eval", "--model", Gpt2, "--tokens", "1,2", "--token-file", "x"), ExitCodes.Usage, "exactly one of --text");
            AssertFails(Run("eval", "--model", Gpt2, "--tokens", "1,x,2"), ExitCodes.Usage, "'x' (item 2) is not a token id");
            AssertFails(Run("eval", "--model", Gpt2, "--tokens", "1,-2"), ExitCodes.Usage, "is not a token id");
            AssertFails(Run("eval", "--model", Gpt2, "--tokens", ","), ExitCodes.Usage, "no token ids");
            AssertFails(Run("eval", "--model", Gpt2, "--tokens", "1,2", "--ctx", "1"), ExitCodes.Usage, "--ctx needs a whole number >= 2");
            AssertFails(Run("eval", "--model", Gpt2, "--tokens", "1,2", "--ctx", "abc"), ExitCodes.Usage, "abc");
            AssertFails(Run("eval", "--model", Gpt2, "--tokens", "1,2", "--stride", "0"), ExitCodes.Usage, "--stride needs");
            AssertFails(Run("eval", "--model", Gpt2, "--tokens", "1,2", "--ctx", "4", "--stride", "5"), ExitCodes.Usage, "larger than --ctx");
            AssertFails(Run("eval", "--model", Gpt2, "--tokens", "1,2", "--bogus"), ExitCodes.Usage, "--bogus");
            AssertFails(Run("eval", "--model", Gpt2, "--tokens", "1,2", "--method", "exact"), ExitCodes.Usage, "--method needs an expression");
            AssertFails(Run("eval", "--model", Gpt2, "--tokens", "1,2", "--runtime"), ExitCodes.Usage, "--runtime needs");
            AssertFails(Run("eval", "--model", Gpt2, "--tokens", "1,2", "a+b", "--adapter", "a=x"), ExitCodes.Usage, "no --adapter b=DIR");
            AssertFails(Run("eval", "--model", Gpt2, "--tokens", "1,2", "a+", "--adapter", "a=x"), ExitCodes.Usage, "bad expression");
            AssertFails(Run("eval", "--model", Gpt2, "--tokens", "1,2", "a", "--adapter", "nodir"), ExitCodes.Usage, "NAME=DIR");
            AssertFails(Run("eval", "--model", Gpt2, "--tokens", "1,2", "a", "--adapter", "a=x", "--method", "nope"), ExitCodes.Usage, "--method");
            AssertFails(Run("eval", "--model", Gpt2, "--tokens", "1,2", "--adapter", "x", "--adapter", "x"), ExitCodes.Usage, "given twice");
            AssertFails(Run("eval", "--model", Gpt2, "--tokens", "1,2", "--threads", "-1"), ExitCodes.Usage, "--threads");
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
            AssertFails(Run("eval", "--model", dir.File("nomodel"), "--tokens", "1,2"), ExitCodes.InputError, "model directory not found");
            AssertFails(Run("eval", "--model", Gpt2, "--text", dir.File("text.txt")), ExitCodes.InputError, "--text needs the model's tokenizer");
            AssertFails(Run("eval", "--model", Gpt2, "--token-file", dir.File("absent.txt")), ExitCodes.InputError, "--token-file");
            AssertFails(Run("eval", "--model", Gpt2, "--token-file", dir.File("ids.txt")), ExitCodes.InputError, "'oops' (item 4)");
            AssertFails(Run("eval", "--model", Gpt2, "--token-file", dir.File("one.txt")), ExitCodes.InputError, "at least 2 tokens");
            AssertFails(Run("eval", "--model", Gpt2, "--tokens", "5"), ExitCodes.InputError, "at least 2 tokens");
            AssertFails(Run("eval", "--model", Gpt2, "--tokens", "1,2", "--adapter", dir.File("noadapter")), ExitCodes.InputError, "noadapter");
            AssertFails(Run("eval", "--model", Gpt2, "--tokens", "1,2", "a", "--adapter", "a=" + dir.File("noadapter")), ExitCodes.InputError, "adapter 'a'");
        }
    }

    [Test]
    public void Score_AndGenerate_BadUsageAndInput()
    {
        using (Assert.EnterMultipleScope())
        {
            AssertFails(Run("score", "--model", Gpt2, "--choices", "a|b"), ExitCodes.Usage, "exactly one of --prompt");
            AssertFails(Run("score", "--model", Gpt2, "--prompt-tokens", "1,2"), ExitCodes.Usage, "exactly one of --choices");
            AssertFails(Run("score", "--model", Gpt2, "--prompt-tokens", "1,2", "--choice-tokens", "3|x"), ExitCodes.Usage, "choice 2");
            AssertFails(Run("score", "--model", Gpt2, "--prompt-tokens", "1,2", "--choices", "a||b"), ExitCodes.Usage, "a choice is empty");
            AssertFails(Run("score", "--model", Gpt2, "--prompt", "hi", "--choice-tokens", "3|4"), ExitCodes.InputError, "needs the model's tokenizer");
            AssertFails(Run("generate", "--model", Gpt2), ExitCodes.Usage, "exactly one of --prompt");
            AssertFails(Run("generate", "--model", Gpt2, "--prompt-tokens", "1", "--max-new-tokens", "-3"), ExitCodes.Usage, "--max-new-tokens");
            AssertFails(Run("generate", "--model", Gpt2, "--prompt", "hello"), ExitCodes.InputError, "--prompt needs the model's tokenizer");
            AssertFails(Run("generate", "--prompt-tokens", "1"), ExitCodes.Usage, "--model DIR is required");
        }
    }
}
