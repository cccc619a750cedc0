using System.CommandLine;
using System.CommandLine.Invocation;
using System.Globalization;
using PeftNative.Benchmarking;
using Spectre.Console;

namespace PeftNative.Cli.Commands;

/// <summary>
/// <c>peftnative bench [--quick] [--json] [--backend NAME] [--threads N]</c>: the bandwidth-ratio
/// harness (<see cref="BandwidthHarness"/>). Exit code 0 — a measurement does not fail; 2 with a
/// one-line reason on standard error for bad usage (unknown option or backend, a bad thread count,
/// or a backend named explicitly that cannot load here).
/// </summary>
public static class BenchCommand
{
    /// <summary>Exit code for bad usage.</summary>
    public const int UsageExitCode = ExitCodes.Usage;

    private const string Description =
        "Measure the kernels against this machine's roofs, in one run: a memory probe (in-place read-modify-write " +
        "over an array far larger than the caches, bytes read + written), an f32 FMA probe with the widest vectors, " +
        "and a bf16 dot probe (VDPBF16PS where present), then every kernel cold (each timed run on another copy of W " +
        "from a set of at least 1 GiB, buffers touched before timing). Prints seconds (best of the cold runs after a " +
        "warm-up), GB/s, and roofline = max(bytes / memory probe, flops / compute probe) / seconds, where the compute " +
        "probe is the f32 FMA probe, or max(f32 FMA probe, bf16 probe) for bf16 factors, since a kernel that widens " +
        "bf16 to f32 runs at the f32 FMA rate. Bytes: lowrank_merge and scale = 2 x |W|, affine = (k+1) x n x size, " +
        "convert = n x (src size + dst size); flops (lowrank_merge only) = 2 x rows x cols x r. Probes: libpeft_native's " +
        "pn_probe_* when it loads, and the managed ones (Vector256/512) always, before and after the kernels; each roof is " +
        "the best reading (the output says which probe gave it). Exit code 0; 2 on bad usage.";

    /// <summary>Creates the <c>bench</c> subcommand.</summary>
    public static Command Create()
    {
        var quick = new Option<bool>("--quick")
        {
            Description = "Fewer cases, runs and shorter probes: finishes in under a minute on 2 cores.",
        };
        var json = new Option<bool>("--json")
        {
            Description = "Print one JSON object {\"probe\": {...}, \"results\": [...], \"errors\", \"notes\", \"settings\"} instead of the table (convert dtypes read \"src->dst\").",
        };
        var backend = new Option<string?>("--backend")
        {
            Description = "native-cpu, managed, reference (512x512 only, it is slow), ilgpu (a GPU, else its CPU accelerator) or cuda. Default: every available CPU backend (native-cpu when libpeft_native loads, and managed), plus cuda and ilgpu on a GPU.",
            HelpName = "NAME",
        };
        var threads = new Option<string?>("--threads")
        {
            Description = "Threads for the kernels and the probes (default: all logical CPUs).",
            HelpName = "N",
        };
        var io = new Option<bool>("--io")
        {
            Description = "Measure safetensors I/O instead of the kernels, in one run: page-cache write bandwidth (plain FileStream) against the " +
                "safetensors writer on the same bytes (1 GiB; --quick: 256 MiB), and the time to open and index a 1 MiB and a 2 GiB file " +
                "(header only; the 2 GiB file's data section is sparse). Files go to PEFTNATIVE_BENCH_DIR or the temporary directory.",
        };
        var compose = new Option<bool>("--compose")
        {
            Description = "Measure composition instead of the kernels, in one run: the svd method from the factors against the dense route " +
                "(form the sum of 8 rank-16 updates, full SVD) on 1024 and 2048 square targets (--quick: 1024 only), and the paper method on " +
                "8 rank-16 bf16 adapters of a 32-layer, 4096-hidden model (7 targets per layer) against the memory probe.",
        };
        var gemm = new Option<bool>("--gemm")
        {
            Description = "Measure the forward pass's matrix products instead of the kernels, in one run: prefill GEMMs (GPT-2 small and LLaMA-1B " +
                "weights, m = 128 and 512; --quick: 128) in GFLOP/s against the f32 FMA probe (target >= 0.60), and decode (m = 1) in GB/s against " +
                "the memory probe. --backend picks native-cpu or managed (default: both where native-cpu loads).",
        };
        var merge = new Option<bool>("--merge")
        {
            Description = "Measure a whole-model merge instead of the kernels, in one run: a synthetic 1.1B-parameter bf16 LLaMA-shaped model (22 layers, hidden 2048, " +
                "intermediate 5632; --quick: 4 layers, hidden 1024) with a rank-16 LoRA on all 7 projections, against a probe that reads and writes the same bytes " +
                "through the page cache; reports both times, their ratio and the merge's peak RSS. Files go to PEFTNATIVE_BENCH_DIR or the temporary directory and are deleted.",
        };
        var command = new Command("bench", Description) { quick, json, backend, threads, io, compose, gemm, merge };
        command.Action = new BenchAction(quick, json, backend, threads, io, compose, gemm, merge);
        return command;
    }

    /// <summary>
    /// The action; it also receives parse errors (<see cref="ClearsParseErrors"/>) so that bad usage of
    /// bench exits 2 with one line, as the spec asks, instead of the parser's exit 1 and help text.
    /// </summary>
    private sealed class BenchAction(Option<bool> quick, Option<bool> json, Option<string?> backend, Option<string?> threads, Option<bool> io,
        Option<bool> compose, Option<bool> gemm, Option<bool> merge)
        : SynchronousCommandLineAction
    {
        public override bool ClearsParseErrors => true;

        public override int Invoke(ParseResult parse)
        {
            if (parse.Errors.Count > 0)
                return Usage(parse.Errors[0].Message);
            if (parse.UnmatchedTokens.Count > 0)
                return Usage($"unexpected argument '{parse.UnmatchedTokens[0]}' (usage: peftnative bench [--quick] [--json] [--backend NAME] [--threads N])");

            if (parse.GetValue(io))
                return RunIo(parse.GetValue(quick), parse.GetValue(json));
            if (parse.GetValue(merge))
                return MergeBench.Run(parse.GetValue(quick), parse.GetValue(json), parse.GetValue(backend)?.Trim().ToLowerInvariant(), parse.GetValue(threads));
            if (parse.GetValue(compose))
                return RunCompose(parse.GetValue(quick), parse.GetValue(json), parse.GetValue(backend)?.Trim().ToLowerInvariant());

            string? backendName = parse.GetValue(backend)?.Trim().ToLowerInvariant();
            if (backendName is not null && !BenchOptions.KnownBackends.Contains(backendName))
                return Usage($"unknown backend '{backendName}' (expected {string.Join(", ", BenchOptions.KnownBackends)})");

            int threadCount = 0;
            string? threadText = parse.GetValue(threads);
            if (threadText is not null
                && (!int.TryParse(threadText, NumberStyles.None, CultureInfo.InvariantCulture, out threadCount) || threadCount < 1 || threadCount > 4096))
                return Usage($"--threads needs a whole number from 1 to 4096, got '{threadText}'");

            if (parse.GetValue(gemm))
                return GemmBench.Run(parse.GetValue(quick), parse.GetValue(json), backendName, threadCount);

            var options = new BenchOptions
            {
                Quick = parse.GetValue(quick),
                Backends = backendName is null ? null : [backendName],
                Threads = threadCount,
                Progress = Console.IsErrorRedirected ? null : ProgressLine,
            };
            return Run(options, parse.GetValue(json));
        }
    }

    private static int Run(BenchOptions options, bool asJson)
    {
        BenchReport report;
        try
        {
            report = BandwidthHarness.Run(options);
        }
        catch (ArgumentException e)
        {
            ClearProgress(options);
            return Usage(string.Join("; ", e.Message.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)).Replace("bench: ", "", StringComparison.Ordinal));
        }
        ClearProgress(options);
        if (asJson)
        {
            Console.Out.WriteLine(report.ToJson());
            return 0;
        }
        WriteTable(report);
        return 0;
    }

    private static int RunCompose(bool quickRun, bool asJson, string? backendName)
    {
        var options = new CompositionProbeOptions
        {
            Backend = backendName,
            Progress = Console.IsErrorRedirected ? null : ProgressLine,
        };
        if (quickRun)
            options = options with { SvdSizes = [1024], Repeats = 5 };
        CompositionProbeResult r;
        try
        {
            r = CompositionProbe.Measure(options);
        }
        catch (ArgumentException e)
        {
            return Usage(e.Message);
        }
        if (options.Progress is not null)
            Console.Error.Write("\r" + new string(' ', Math.Max(20, SafeWindowWidth() - 1)) + "\r");
        if (asJson)
        {
            Console.Out.WriteLine(r.ToJson());
            return 0;
        }
        foreach (var s in r.Svd)
            Console.Out.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"svd {s.Size}x{s.Size}, {s.Adapters} x rank {s.Rank} -> rank {s.TargetRank}: factors {s.FactorSeconds * 1e3:F2} ms, dense route {s.DenseSeconds:F2} s, ratio {s.Ratio:F0}x (target >= 100x), leading singular values differ by {s.LeadingSingularValueDifference:G2} (relative)"));
        foreach (var p in r.Paper)
            Console.Out.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"paper {p.Route} ({p.Backend}, {p.DType}): {p.Modules} modules x {p.Adapters} adapters, rank {p.Rank}: {p.Seconds * 1e3:F1} ms, {p.Gbps:F2} GB/s, roofline {p.Roofline:F2} (target >= 0.70)"));
        foreach (string note in r.Notes)
            Console.Out.WriteLine("note: " + note);
        return 0;
    }

    private static int RunIo(bool quickRun, bool asJson)
    {
        string? dir = Environment.GetEnvironmentVariable("PEFTNATIVE_BENCH_DIR");
        var options = new SafetensorsIoProbeOptions { Directory = string.IsNullOrEmpty(dir) ? null : dir };
        if (quickRun)
            options = options with { WriteBytes = 256L << 20 };
        SafetensorsIoProbeResult r;
        try
        {
            r = SafetensorsIoProbe.Measure(options);
        }
        catch (ArgumentException e)
        {
            return Usage(e.Message);
        }
        if (asJson)
        {
            Console.Out.WriteLine(r.ToJson());
            return 0;
        }
        static string Us(double? v) => v is { } x ? x.ToString("F1", CultureInfo.InvariantCulture) + " us" : "not measured";
        Console.Out.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"safetensors I/O in {r.Directory}: plain write {r.PlainWriteGbps:F2} GB/s, writer {r.WriterGbps:F2} GB/s, ratio {r.WriteRatio:F2} (target >= 0.70) over {r.WriteBytes >> 20} MiB"));
        Console.Out.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"open + index, same tensor count: {r.SmallFileBytes >> 20} MiB file {Us(r.OpenSmallMicroseconds)}, {r.LargeFileBytes >> 20} MiB file ({r.LargeFileTensors} tensors) {Us(r.OpenLargeMicroseconds)} (target < 10 ms)"));
        foreach (string note in r.Notes)
            Console.Out.WriteLine("note: " + note);
        return 0;
    }

    /// <summary>Three significant digits at least, without exponent: 123.4, 12.34, 1.234, 0.0123.</summary>
    private static string Number(double value)
    {
        double a = Math.Abs(value);
        string format = a >= 100 ? "F1" : a >= 10 ? "F2" : a >= 1 || a == 0 ? "F3" : a >= 0.01 ? "F4" : "G3";
        return value.ToString(format, CultureInfo.InvariantCulture);
    }

    /// <summary>Seconds with 4 significant digits: 0.02506, 0.1091, 3.709e-05 stays 0.00003709.</summary>
    private static string Seconds(double value) =>
        value.ToString(value >= 1 ? "F3" : "0.####" + new string('#', Math.Max(0, -(int)Math.Floor(Math.Log10(Math.Max(value, 1e-12)))) - 1), CultureInfo.InvariantCulture);

    private static int Usage(string reason) => ExitCodes.Fail("bench", UsageExitCode, reason);

    private static void ProgressLine(string line)
    {
        int width = Math.Max(20, SafeWindowWidth() - 1);
        string text = "bench: " + line;
        if (text.Length > width)
            text = text[..width];
        Console.Error.Write("\r" + text.PadRight(width));
    }

    private static void ClearProgress(BenchOptions options)
    {
        if (options.Progress is not null)
            Console.Error.Write("\r" + new string(' ', Math.Max(20, SafeWindowWidth() - 1)) + "\r");
    }

    private static int SafeWindowWidth()
    {
        try
        {
            return Console.WindowWidth > 0 ? Console.WindowWidth : 80;
        }
        catch (IOException)
        {
            return 80;
        }
    }

    private static void WriteTable(BenchReport report)
    {
        var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Out) });
        if (Console.IsOutputRedirected)
            console.Profile.Width = 160;

        var p = report.Probe;
        console.MarkupLine(Markup.Escape(string.Create(CultureInfo.InvariantCulture,
            $"probe ({p.Source}, {p.VectorBits}-bit, {p.Threads} thread{(p.Threads == 1 ? "" : "s")}): memory RMW {p.MemGbps:F1} GB/s ({p.MemBytes >> 20} MiB) | f32 FMA {p.FmaGflops:F1} GFLOP/s | bf16 dot {p.Bf16Gflops:F1} GFLOP/s ({p.Bf16Method}) | bf16 roof {p.Bf16RoofGflops:F1} GFLOP/s")));

        if (p.Native is { } n && p.Managed is { } m)
            console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"  readings (best of 2 rounds, before and after the kernels; roof = the higher): native {n.MemGbps} GB/s, {n.FmaGflops} / {n.Bf16Gflops} GFLOP/s; managed {m.MemGbps} GB/s, {m.FmaGflops} / {m.Bf16Gflops} GFLOP/s"));

        var table = new Table().Border(TableBorder.Rounded);
        table.AddColumn("kernel");
        table.AddColumn("backend");
        table.AddColumn("dtype");
        table.AddColumn("shape");
        table.AddColumn(new TableColumn("r").RightAligned());
        table.AddColumn(new TableColumn("k").RightAligned());
        table.AddColumn(new TableColumn("thr").RightAligned());
        table.AddColumn(new TableColumn("seconds").RightAligned());
        table.AddColumn(new TableColumn("median s").RightAligned());
        table.AddColumn(new TableColumn("GB/s").RightAligned());
        table.AddColumn(new TableColumn("roofline").RightAligned());
        table.AddColumn("bound");
        foreach (var r in report.Results)
        {
            double threshold = r.Backend switch { "native-cpu" => 0.8, "managed" => 0.6, _ => 0 };
            string roof = r.Roofline >= 0.01 ? r.Roofline.ToString("F2", CultureInfo.InvariantCulture) : r.Roofline.ToString("G2", CultureInfo.InvariantCulture);
            string roofCell = threshold > 0 && r.Roofline < threshold ? $"[bold red]{roof}[/]" : threshold > 0 ? $"[green]{roof}[/]" : roof;
            table.AddRow(
                r.Kernel + (r.FanInFanOut ? " (fan_in_fan_out)" : ""),
                r.Backend,
                Markup.Escape(r.DType),
                r.Shape,
                r.Rank?.ToString(CultureInfo.InvariantCulture) ?? "",
                r.Inputs.ToString(CultureInfo.InvariantCulture),
                r.Threads.ToString(CultureInfo.InvariantCulture),
                Seconds(r.Seconds),
                Seconds(r.MedianSeconds),
                Number(r.Gbps),
                roofCell,
                r.Bound);
        }
        console.Write(table);

        int runs = report.Results.Count > 0 ? report.Results.Max(r => r.Runs) : 0;
        console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"seconds = best of up to {runs} cold runs after {report.Settings.WarmupRuns} warm-up (each run on another copy from a >= {report.Settings.ColdSetBytes >> 20} MiB set); roofline = max(bytes / memory probe, flops / compute probe) / best seconds;"));
        console.WriteLine("compute probe = f32 FMA, or max(f32 FMA, bf16 dot) for bf16 factors (a kernel that widens bf16 to f32 runs at the f32 FMA rate); flagged: roofline < 0.8 (native-cpu), < 0.6 (managed).");
        foreach (var note in report.Notes)
            console.WriteLine("note: " + note);
        foreach (var group in report.Errors.GroupBy(e => (e.Backend, e.Message)))
        {
            var labels = group.Select(e => $"{e.Kernel} {e.DType}{(e.Rank is { } rank ? $" r={rank}" : e.Kernel == "affine" ? $" k={e.Inputs}" : "")}").ToList();
            console.WriteLine($"error: {group.Key.Backend}: {labels.Count} case{(labels.Count == 1 ? "" : "s")} not measured ({group.Key.Message}): {string.Join(", ", labels)}");
        }
    }
}
