using System.CommandLine;
using System.CommandLine.Invocation;
using System.Globalization;
using System.Text.Json.Nodes;
using PeftNative.Demo;
using Spectre.Console;

namespace PeftNative.Cli.Commands;

/// <summary>
/// <c>peftnative demo [--keep DIR] [--json] [--threads N] [--backend NAME]</c>: the README's first
/// command (<see cref="DemoRunner"/>). Exit codes: 0; 1 when merged and run-time logits disagree;
/// 2 on bad usage or when the files cannot be written.
/// </summary>
public static class DemoCommand
{
    /// <summary>Creates the <c>demo</c> subcommand.</summary>
    public static Command Create()
    {
        var keep = new Option<string?>("--keep") { Description = "Write the files into DIR and keep them (default: a temporary directory, removed at the end).", HelpName = "DIR" };
        var json = new Option<bool>("--json") { Description = "Print one JSON object instead of tables." };
        var threads = new Option<int>("--threads") { Description = "Worker threads (default: all logical CPUs).", HelpName = "N" };
        var backend = new Option<string?>("--backend") { Description = "Kernel backend: auto, native-cpu, managed, reference.", HelpName = "NAME" };
        var command = new Command("demo",
            "Show what PeftNative does with no files of your own: write a small random LLaMA-style model and LoRA and (IA)^3 adapters, " +
            "compose them as the paper's four uses (distribution generalisation, multi-tasking, unlearning by negation, analogy a + (b - c)), " +
            "merge one result into the model, check merged against run-time logits, and report perplexity and throughput.")
        {
            keep, json, threads, backend,
        };
        command.Action = new DemoAction(keep, json, threads, backend);
        return command;
    }

    private sealed class DemoAction(Option<string?> keep, Option<bool> json, Option<int> threads, Option<string?> backend) : SynchronousCommandLineAction
    {
        public override bool ClearsParseErrors => true;

        public override int Invoke(ParseResult parse)
        {
            if (parse.Errors.Count > 0)
                return Fail(ExitCodes.Usage, parse.Errors[0].Message + " " + UsageText);
            if (parse.UnmatchedTokens.Count > 0)
                return Fail(ExitCodes.Usage, $"unexpected argument '{parse.UnmatchedTokens[0]}' {UsageText}");
            int threadCount = parse.GetValue(threads);
            if (threadCount < 0)
                return Fail(ExitCodes.Usage, "--threads must be a positive number");
            string? keepDirectory = parse.GetValue(keep);
            string root = keepDirectory ?? Path.Combine(Path.GetTempPath(), $"peftnative-demo-{Environment.ProcessId}-{Guid.NewGuid():N}");
            bool asJson = parse.GetValue(json);
            var options = new DemoOptions { Root = root, Threads = threadCount, Backend = parse.GetValue(backend) };
            DemoReport report;
            try
            {
                DemoWorkspace.EnsureFree(root);   // before any progress line, so a refusal is one line
                // Steps go to standard error so that --json output stays one clean object.
                report = DemoRunner.Run(options, new SynchronousProgress(line => { if (!asJson) Console.Error.WriteLine($"demo: {line}"); }));
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException)
            {
                return Fail(ExitCodes.InputError, e.Message);
            }
            finally
            {
                if (keepDirectory is null)
                    TryDelete(root);
            }
            if (asJson)
                Console.Out.WriteLine(ToJson(report, keepDirectory is not null).ToJsonString(new System.Text.Json.JsonSerializerOptions { WriteIndented = true }));
            else
                WriteText(report, keepDirectory);
            return report.Agrees ? 0 : Fail(ExitCodes.FailedCheck,
                $"merged and run-time logits differ by {report.MaxRelativeLogitDifference:G3} (relative), above {report.Tolerance:G3}");
        }
    }

    private const string UsageText = "(usage: peftnative demo [--keep DIR] [--json] [--threads N] [--backend NAME])";

    private sealed class SynchronousProgress(Action<string> report) : IProgress<string>
    {
        public void Report(string value) => report(value);
    }

    private static int Fail(int code, string reason) => ExitCodes.Fail("demo", code, reason);

    private static void TryDelete(string directory)
    {
        try
        {
            if (Directory.Exists(directory))
                Directory.Delete(directory, recursive: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            Console.Error.WriteLine($"peftnative demo: could not remove {directory}: {e.Message}");
        }
    }

    private static JsonObject ToJson(DemoReport r, bool kept) => new()
    {
        ["caveat"] = DemoReport.Caveat,
        ["directory"] = kept ? r.Root : null,
        ["model_parameters"] = r.ModelParameters,
        ["compositions"] = new JsonArray(r.Compositions.Select(c => (JsonNode)new JsonObject
        {
            ["use"] = c.Use,
            ["expression"] = c.Expression,
            ["modules"] = c.Modules,
            ["milliseconds"] = c.Milliseconds,
            ["perplexity_runtime"] = c.Perplexity,
        }).ToArray()),
        ["merge"] = new JsonObject
        {
            ["expression"] = r.MergedExpression,
            ["seconds"] = r.MergeSeconds,
            ["bytes_per_second"] = r.MergeBytesPerSecond,
            ["tensors_touched"] = r.MergeTensorsTouched,
        },
        ["agreement"] = new JsonObject
        {
            ["max_relative_logit_difference"] = r.MaxRelativeLogitDifference,
            ["tolerance"] = r.Tolerance,
            ["agrees"] = r.Agrees,
        },
        ["tokens"] = r.Tokens,
        ["perplexity_before"] = r.PerplexityBefore,
        ["perplexity_after"] = r.PerplexityAfter,
        ["prefill_tokens_per_second"] = r.PrefillTokensPerSecond,
        ["decode_tokens_per_second"] = r.DecodeTokensPerSecond,
        ["total_seconds"] = r.TotalSeconds,
    };

    private static void WriteText(DemoReport r, string? keptDirectory)
    {
        var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Out) });
        if (Console.IsOutputRedirected)
            console.Profile.Width = 120;
        console.WriteLine($"PeftNative demo: a random LLaMA-style model ({r.ModelParameters / 1e6:F1}M parameters, f32) and 11 adapters, written in {r.SetupSeconds:F1} s.");
        var compositions = new Table().Border(TableBorder.Rounded).Title("compositions (paper method)");
        compositions.AddColumn("use");
        compositions.AddColumn("expression");
        compositions.AddColumn(new TableColumn("modules").RightAligned());
        compositions.AddColumn(new TableColumn("compose ms").RightAligned());
        compositions.AddColumn(new TableColumn("perplexity").RightAligned());
        foreach (var c in r.Compositions)
            compositions.AddRow(Markup.Escape(c.Use), Markup.Escape(c.Expression), Int(c.Modules), Fixed(c.Milliseconds, "F1"), Fixed(c.Perplexity, "F2"));
        console.Write(compositions);

        var summary = new Table().Border(TableBorder.Rounded).Title($"merged '{Markup.Escape(r.MergedExpression)}' into the model");
        summary.AddColumn("check");
        summary.AddColumn(new TableColumn("value").RightAligned());
        summary.AddRow("merge", $"{r.MergeTensorsTouched} tensors in {r.MergeSeconds * 1e3:F0} ms ({r.MergeBytesPerSecond / 1e9:F2} GB/s read+written)");
        summary.AddRow("merged vs run-time logits", $"max rel. diff {r.MaxRelativeLogitDifference.ToString("0.00E+0", CultureInfo.InvariantCulture)} (<= {r.Tolerance.ToString("0E+0", CultureInfo.InvariantCulture)}: {(r.Agrees ? "agree" : "DISAGREE")})");
        summary.AddRow($"perplexity over {r.Tokens} tokens", $"{r.PerplexityBefore:F2} -> {r.PerplexityAfter:F2}");
        summary.AddRow("forward pass", $"prefill {r.PrefillTokensPerSecond:F0} tok/s, decode {r.DecodeTokensPerSecond:F0} tok/s");
        summary.AddRow("total", $"{r.TotalSeconds:F1} s");
        console.Write(summary);
        console.WriteLine(DemoReport.Caveat);
        if (keptDirectory is not null)
            console.WriteLine($"Files kept in {r.Root}: try `peftnative inspect {Path.Combine(r.Root, "model")}` or " +
                $"`peftnative compose \"0.5*sentiment + 0.5*nli\" --adapter sentiment={Path.Combine(r.Root, "adapters", "sentiment")} " +
                $"--adapter nli={Path.Combine(r.Root, "adapters", "nli")} --out {Path.Combine(r.Root, "mine")}`.");
    }

    private static string Int(int value) => value.ToString(CultureInfo.InvariantCulture);

    private static string Fixed(double value, string format) => value.ToString(format, CultureInfo.InvariantCulture);
}
