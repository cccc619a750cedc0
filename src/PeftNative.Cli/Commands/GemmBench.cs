using System.Globalization;
using PeftNative.Benchmarking;

namespace PeftNative.Cli.Commands;

/// <summary><c>peftnative bench --gemm</c>: runs <see cref="GemmProbe"/> and prints one line per case (or JSON).</summary>
internal static class GemmBench
{
    /// <summary>Runs the probe; 0 after a measurement, 2 (one line on standard error) for bad usage.</summary>
    public static int Run(bool quick, bool asJson, string? backend, int threads)
    {
        var options = (quick ? GemmProbeOptions.Quick : new GemmProbeOptions()) with
        {
            Products = backend is null ? null : [backend],
            Threads = threads,
            Progress = Console.IsErrorRedirected ? null : static line => Console.Error.Write("\rbench: " + line.PadRight(70)),
        };
        GemmProbeResult r;
        try
        {
            r = GemmProbe.Measure(options);
        }
        catch (ArgumentException e)
        {
            return ExitCodes.Fail("bench", ExitCodes.Usage, e.Message);
        }
        if (options.Progress is not null)
            Console.Error.Write("\r" + new string(' ', 80) + "\r");
        if (asJson)
        {
            Console.Out.WriteLine(r.ToJson());
            return 0;
        }
        var p = r.Probe;
        Console.Out.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"probe ({p.Source}, {p.VectorBits}-bit, {p.Threads} thread{(p.Threads == 1 ? "" : "s")}): f32 FMA {p.FmaGflops:F1} GFLOP/s | memory RMW {p.MemGbps:F1} GB/s"));
        foreach (var c in r.Prefill)
            Console.Out.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"prefill {c.Product,-10} {c.Label,-20} m={c.M,-4} n={c.N,-5} k={c.K,-5} {c.DType,-4} {(c.WeightIsInputMajor ? "(k,n)" : "(n,k)")}: {c.Seconds * 1e3,8:F2} ms {c.Gflops,6:F1} GFLOP/s  ratio {c.Ratio:F2}{(c.Ratio >= GemmProbe.PrefillTarget ? "" : " (below 0.60)")}  adjacent FMA {c.AdjacentFmaGflops:F1}, cpu-time ratio {c.CpuTimeRatio:F2}"));
        foreach (var c in r.Decode)
            Console.Out.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"decode  {c.Product,-10} {c.Label,-20} m=1    n={c.N,-5} k={c.K,-5} {c.DType,-4} {(c.WeightIsInputMajor ? "(k,n)" : "(n,k)")}: {c.Seconds * 1e3,8:F3} ms {c.Gbps,6:F1} GB/s  ratio {c.Ratio:F2} of the memory probe"));
        foreach (string note in r.Notes)
            Console.Out.WriteLine("note: " + note);
        return 0;
    }
}
