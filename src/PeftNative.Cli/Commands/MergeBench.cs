using System.Globalization;
using PeftNative.Benchmarking;

namespace PeftNative.Cli.Commands;

/// <summary><c>peftnative bench --merge [--quick] [--json]</c>: runs <see cref="MergeProbe"/> and prints its figures.</summary>
internal static class MergeBench
{
    public static int Run(bool quick, bool json, string? backend, string? threadText)
    {
        int threads = 0;
        if (threadText is not null && (!int.TryParse(threadText, NumberStyles.None, CultureInfo.InvariantCulture, out threads) || threads < 1 || threads > 4096))
            return ExitCodes.Fail("bench", ExitCodes.Usage, $"--threads needs a whole number from 1 to 4096, got '{threadText}'");
        string? dir = Environment.GetEnvironmentVariable("PEFTNATIVE_BENCH_DIR");
        var options = (quick ? MergeProbeOptions.Quick : new MergeProbeOptions()) with
        {
            Directory = string.IsNullOrEmpty(dir) ? null : dir,
            Backend = backend,
            Threads = threads,
            Progress = Console.IsErrorRedirected ? null : line => Console.Error.WriteLine("bench: " + line),
        };
        MergeProbeResult result;
        try
        {
            result = MergeProbe.Measure(options);
        }
        catch (ArgumentException e)
        {
            return ExitCodes.Fail("bench", ExitCodes.Usage, e.Message);
        }
        Console.Out.WriteLine(json ? result.ToJson() : result.ToText());
        return 0;
    }
}
