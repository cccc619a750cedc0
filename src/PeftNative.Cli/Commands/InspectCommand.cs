using System.CommandLine;
using System.CommandLine.Invocation;
using System.Globalization;
using PeftNative.Inspection;
using Spectre.Console;

namespace PeftNative.Cli.Commands;

/// <summary>
/// <c>peftnative inspect PATH [--json]</c>: what a .safetensors file, sharded checkpoint, PEFT adapter
/// directory or Hugging Face model directory holds (<see cref="InspectionReport"/>). Exit codes: 0;
/// 2 with a one-line reason on standard error when the input is missing or broken, or on bad usage.
/// </summary>
public static class InspectCommand
{
    /// <summary>Exit code for a missing or broken input.</summary>
    public const int InputErrorExitCode = ExitCodes.InputError;

    /// <summary>Exit code for bad usage.</summary>
    public const int UsageExitCode = ExitCodes.Usage;

    /// <summary>Creates the <c>inspect</c> subcommand.</summary>
    public static Command Create()
    {
        var path = new Argument<string>("PATH")
        {
            Description = "A .safetensors file, a *.safetensors.index.json, a PEFT adapter directory or a Hugging Face model directory.",
        };
        var json = new Option<bool>("--json") { Description = "Print one JSON object instead of tables." };
        var command = new Command("inspect",
            "List what a safetensors file, sharded checkpoint, PEFT adapter or model directory holds: tensors (name, dtype, shape, bytes), " +
            "the config summary, target modules, per-module rank and scaling, and total parameters. Reads headers and configs only.")
        {
            path, json,
        };
        command.Action = new InspectAction(path, json);
        return command;
    }

    private sealed class InspectAction(Argument<string> path, Option<bool> json) : SynchronousCommandLineAction
    {
        public override bool ClearsParseErrors => true;

        public override int Invoke(ParseResult parse)
        {
            if (parse.Errors.Count > 0)
                return Fail(UsageExitCode, parse.Errors[0].Message + " (usage: peftnative inspect PATH [--json])");
            InspectionReport report;
            try
            {
                report = InspectionReport.Inspect(parse.GetValue(path)!);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // FileFormatException (broken files) and FileNotFound/DirectoryNotFound are IOExceptions.
                return Fail(InputErrorExitCode, e.Message.ReplaceLineEndings(" "));
            }
            if (parse.GetValue(json))
                Console.Out.WriteLine(report.ToJson());
            else
                WriteText(report);
            return 0;
        }
    }

    private static int Fail(int code, string reason) => ExitCodes.Fail("inspect", code, reason);

    private static void WriteText(InspectionReport report)
    {
        var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Out) });
        if (Console.IsOutputRedirected)
            console.Profile.Width = 160;
        console.WriteLine($"{report.Kind.ToString().ToLowerInvariant()}: {report.Path}");
        foreach (var kv in report.Summary)
            console.WriteLine($"  {kv.Key}: {kv.Value}");
        foreach (var kv in report.Metadata.OrderBy(kv => kv.Key, StringComparer.Ordinal))
            console.WriteLine($"  __metadata__.{kv.Key}: {kv.Value}");

        if (report.Modules.Count > 0)
        {
            var modules = new Table().Border(TableBorder.Rounded).Title("modules");
            foreach (string c in new[] { "module", "type", "r", "alpha", "scaling", "in", "out", "params" })
                modules.AddColumn(c is "module" or "type" ? new TableColumn(c) : new TableColumn(c).RightAligned());
            foreach (var m in report.Modules)
                modules.AddRow(Markup.Escape(m.Module), m.Type + (m.FeedForward == true ? " (feed-forward)" : ""),
                    Text(m.Rank), Text(m.Alpha), Text(m.Scaling), Text(m.InFeatures), Text(m.OutFeatures), Text(m.Parameters));
            console.Write(modules);
        }

        var tensors = new Table().Border(TableBorder.Rounded).Title("tensors");
        tensors.AddColumn("name");
        tensors.AddColumn("dtype");
        tensors.AddColumn("shape");
        tensors.AddColumn(new TableColumn("bytes").RightAligned());
        bool manyFiles = report.Tensors.Select(t => t.File).Distinct().Skip(1).Any();
        if (manyFiles)
            tensors.AddColumn("file");
        foreach (var t in report.Tensors)
        {
            var row = new List<string> { Markup.Escape(t.Name), t.DType, t.Shape.Count == 0 ? "scalar" : string.Join('x', t.Shape), Text(t.Bytes) };
            if (manyFiles)
                row.Add(Markup.Escape(t.File));
            tensors.AddRow(row.ToArray());
        }
        console.Write(tensors);
        console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{report.Tensors.Count} tensors, {report.TotalParameters:N0} parameters, {report.TotalBytes:N0} bytes ({report.TotalBytes / 1048576.0:F2} MiB)"));
    }

    private static string Text(long? value) => value?.ToString("N0", CultureInfo.InvariantCulture) ?? "";

    private static string Text(int? value) => value?.ToString(CultureInfo.InvariantCulture) ?? "";

    private static string Text(double? value) => value?.ToString("G6", CultureInfo.InvariantCulture) ?? "";
}
