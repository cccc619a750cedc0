using System.Diagnostics;

namespace PeftNative.Tests.NativeApi;

/// <summary>Runs a program to completion (compiler, dotnet publish, a C example): exit code, stdout, stderr.</summary>
internal static class ExternalProcess
{
    public static (int ExitCode, string StdOut, string StdErr) Run(string file, IEnumerable<string> args, TimeSpan timeout,
        IReadOnlyDictionary<string, string?>? environment = null, string? workingDirectory = null)
    {
        var start = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        if (workingDirectory is not null)
            start.WorkingDirectory = workingDirectory;
        foreach (string a in args)
            start.ArgumentList.Add(a);
        foreach (var (name, value) in environment ?? new Dictionary<string, string?>())
        {
            if (value is null)
                start.Environment.Remove(name);
            else
                start.Environment[name] = value;
        }
        using var p = Process.Start(start)!;
        var stderr = p.StandardError.ReadToEndAsync();
        var stdout = p.StandardOutput.ReadToEndAsync();
        if (!p.WaitForExit(timeout))
        {
            p.Kill(entireProcessTree: true);
            Assert.Fail($"{Path.GetFileName(file)} {string.Join(' ', args)} did not finish within {timeout.TotalSeconds} s");
        }
        p.WaitForExit();
        return (p.ExitCode, stdout.Result, stderr.Result);
    }

    /// <summary>The full path of the first of <paramref name="names"/> found on PATH, or null.</summary>
    public static string? FindOnPath(params string[] names)
    {
        var dirs = (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries);
        return names.SelectMany(n => dirs.Select(d => Path.Combine(d, n))).FirstOrDefault(File.Exists);
    }
}
