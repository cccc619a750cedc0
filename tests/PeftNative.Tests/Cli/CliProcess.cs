using System.Diagnostics;

namespace PeftNative.Tests.Cli;

/// <summary>Runs the peftnative CLI out of process (as InspectionReportTests does): exit code, stdout, stderr.</summary>
internal static class CliProcess
{
    public static (int ExitCode, string StdOut, string StdErr) Run(params string[] args)
    {
        string cli = Path.Combine(AppContext.BaseDirectory, "PeftNative.Cli.dll");
        string dotnet = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host ? host : "dotnet";
        var start = new ProcessStartInfo(dotnet) { RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add(cli);
        foreach (string a in args)
            start.ArgumentList.Add(a);
        using var p = Process.Start(start)!;
        var stderr = p.StandardError.ReadToEndAsync();
        string stdout = p.StandardOutput.ReadToEnd();
        Assert.That(p.WaitForExit(120_000), Is.True, "the CLI did not finish in 2 minutes");
        return (p.ExitCode, stdout, stderr.Result);
    }

    /// <summary>Asserts an exit code and exactly one line on stderr containing <paramref name="reason"/>.</summary>
    public static void AssertFails((int ExitCode, string StdOut, string StdErr) run, int exitCode, string reason)
    {
        using (Assert.EnterMultipleScope())
        {
            Assert.That(run.ExitCode, Is.EqualTo(exitCode), run.StdErr);
            Assert.That(run.StdErr.Trim().Split('\n'), Has.Length.EqualTo(1), "one line on stderr: " + run.StdErr);
            Assert.That(run.StdErr, Does.Contain(reason));
            Assert.That(run.StdOut, Is.Empty);
        }
    }
}
