using static PeftNative.Tests.Cli.CliProcess;

namespace PeftNative.Tests.Cli;

/// <summary>What every subcommand promises: --help, one-line usage errors with exit code 2, no stack traces.</summary>
[TestFixture]
public sealed class CommandLineContractTests
{
    private static readonly string[] Commands = ["inspect", "compose", "similarity", "merge", "unmerge", "eval", "score", "generate", "bench", "demo"];

    [Test]
    public void RootHelp_ListsEveryCommand()
    {
        var (rc, stdout, _) = Run("--help");
        Assert.That(rc, Is.Zero);
        foreach (string command in Commands)
            Assert.That(stdout, Does.Contain(command), command);
    }

    [TestCaseSource(nameof(Commands))]
    public void Help_Works(string command)
    {
        var (rc, stdout, stderr) = Run(command, "--help");
        Assert.That(rc, Is.Zero, stderr);
        Assert.That(stdout, Does.Contain("Usage:").And.Contain($"peftnative {command}"));
    }

    [TestCaseSource(nameof(Commands))]
    public void UnknownOption_IsBadUsage_OnOneLine(string command)
    {
        // Commands whose first argument is positional get one, so the option cannot be taken for it.
        var run = command is "inspect" or "compose" or "merge" ? Run(command, "a", "--no-such-option") : Run(command, "--no-such-option");
        AssertFails(run, 2, "--no-such-option");
        Assert.That(run.StdErr, Does.Not.Contain("   at "), "no stack trace");
    }

    [Test]
    public void Bench_BadValues_AreBadUsage()
    {
        AssertFails(Run("bench", "--backend", "nope"), 2, "nope");
        AssertFails(Run("bench", "--threads", "zero"), 2, "--threads");
    }
}
