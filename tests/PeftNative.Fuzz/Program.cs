using SharpFuzz;

namespace PeftNative.Fuzz;

/// <summary>
/// <c>PeftNative.Fuzz &lt;target&gt;</c>: the AFL++ driver (run under afl-fuzz by tests/fuzz/run.sh).
/// <c>PeftNative.Fuzz &lt;target&gt; --replay &lt;file-or-dir&gt;...</c>: runs inputs without AFL,
/// prints each finding with its exception and exits 1 if there was any (use an uninstrumented build).
/// </summary>
internal static class Program
{
    private static int Main(string[] args)
    {
        if (args.Length == 0 || !Targets.ByName.TryGetValue(args[0], out FuzzTarget? target))
            return Usage(args.Length == 0 ? "no target given" : $"unknown target '{args[0]}'");

        if (args.Length == 1)
        {
            // Out-of-process: a child process runs the inputs, so a StackOverflowException (deep
            // JSON nesting, say) is reported as a crash instead of killing the fork server.
            Fuzzer.OutOfProcess.Run(stream => RunStream(target, stream));
            return 0;
        }
        if (args[1] == "--replay" && args.Length > 2)
            return Replay.Run(args[0], target, args.AsSpan(2));
        return Usage($"unexpected arguments after '{args[0]}'");
    }

    private static void RunStream(FuzzTarget target, Stream stream)
    {
        using var buffer = new MemoryStream();
        stream.CopyTo(buffer);
        target(buffer.GetBuffer().AsSpan(0, checked((int)buffer.Length)));
    }

    private static int Usage(string problem)
    {
        Console.Error.WriteLine($"PeftNative.Fuzz: {problem}");
        Console.Error.WriteLine("usage: PeftNative.Fuzz <target>                               (under afl-fuzz)");
        Console.Error.WriteLine("       PeftNative.Fuzz <target> --replay <file-or-dir>...     (no AFL; exit 1 on a finding)");
        Console.Error.WriteLine("targets: " + string.Join(", ", Targets.ByName.Keys));
        return 2;
    }
}
