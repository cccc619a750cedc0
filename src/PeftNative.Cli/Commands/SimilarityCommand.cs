using System.CommandLine;
using System.CommandLine.Invocation;
using System.Globalization;
using PeftNative.Adapters;
using PeftNative.Composition.Diagnostics;
using Spectre.Console;

namespace PeftNative.Cli.Commands;

/// <summary>
/// <c>peftnative similarity --adapter NAME=DIR ... [--per-module] [--json]</c>: the cosine similarity
/// matrix of adapters' updates and their norms (<see cref="AdapterSimilarity"/>), overall and
/// optionally per module. Exit codes: 0; 2 with a one-line reason on standard error for a missing
/// or broken adapter, adapters that cannot be compared, or bad usage.
/// </summary>
public static class SimilarityCommand
{
    /// <summary>Exit code for a missing or broken input.</summary>
    public const int InputErrorExitCode = ExitCodes.InputError;

    /// <summary>Exit code for bad usage.</summary>
    public const int UsageExitCode = ExitCodes.Usage;

    private const string Usage = "usage: peftnative similarity --adapter NAME=DIR ... [--per-module] [--json]";

    /// <summary>Creates the <c>similarity</c> subcommand.</summary>
    public static Command Create()
    {
        var adapters = new Option<string[]>("--adapter") { Description = AdapterArguments.Description, HelpName = "NAME=DIR" };
        var perModule = new Option<bool>("--per-module") { Description = "Also print each module's norms and cosines." };
        var json = new Option<bool>("--json") { Description = "Print one JSON object (per-module figures included only with --per-module)." };
        var command = new Command("similarity",
            "Compare adapters' updates (LoRA: s*B*A, from the factors without forming it; (IA)^3: l - 1): the Frobenius norm of each and the cosine " +
            "similarity of each pair, over all modules and, with --per-module, per module. A module an adapter lacks counts as a zero update. " +
            "Exit code 0; 2 for a missing or broken adapter, adapters that cannot be compared, or bad usage.")
        {
            adapters, perModule, json,
        };
        command.Action = new SimilarityAction(adapters, perModule, json);
        return command;
    }

    private sealed class SimilarityAction(Option<string[]> adapters, Option<bool> perModule, Option<bool> json) : SynchronousCommandLineAction
    {
        public override bool ClearsParseErrors => true;

        public override int Invoke(ParseResult parse)
        {
            if (parse.Errors.Count > 0)
                return Fail(UsageExitCode, $"{parse.Errors[0].Message} ({Usage})");
            if (parse.UnmatchedTokens.Count > 0)
                return Fail(UsageExitCode, $"unexpected argument '{parse.UnmatchedTokens[0]}' ({Usage})");
            var list = AdapterArguments.TryParse(parse.GetValue(adapters), out string? error);
            if (list is null)
                return Fail(UsageExitCode, error!);
            if (list.Count == 0)
                return Fail(UsageExitCode, $"at least one --adapter NAME=DIR is needed ({Usage})");

            Dictionary<string, PeftAdapter> loaded;
            try
            {
                loaded = AdapterArguments.Load(list);
            }
            catch (IOException e)
            {
                return Fail(InputErrorExitCode, e.Message);
            }
            try
            {
                SimilarityReport report;
                try
                {
                    report = AdapterSimilarity.Compute(loaded);
                }
                catch (ArgumentException e)
                {
                    return Fail(InputErrorExitCode, AdapterArguments.OneLine(e.Message));
                }
                if (parse.GetValue(json))
                    Console.Out.WriteLine(report.ToJson(parse.GetValue(perModule)));
                else
                    WriteText(report, parse.GetValue(perModule));
                return 0;
            }
            finally
            {
                AdapterArguments.DisposeAll(loaded);
            }
        }
    }

    private static int Fail(int code, string reason) => ExitCodes.Fail("similarity", code, reason);

    private static void WriteText(SimilarityReport report, bool perModule)
    {
        var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Out) });
        if (Console.IsOutputRedirected)
            console.Profile.Width = 160;
        var names = report.Adapters;
        console.WriteLine($"{ModuleUpdateSet.Label(report.PeftType)}, {names.Count} adapters, {report.Modules.Count} modules " +
            $"(updates: {(report.PeftType == PeftType.Lora ? "s*B*A" : "l - 1")}; a missing module is a zero update)");

        var overall = new Table().Border(TableBorder.Rounded).Title("cosine similarity (all modules)");
        overall.AddColumn("adapter");
        overall.AddColumn(new TableColumn("norm").RightAligned());
        foreach (string n in names)
            overall.AddColumn(new TableColumn(Markup.Escape(n)).RightAligned());
        for (int i = 0; i < names.Count; i++)
        {
            var row = new List<string> { Markup.Escape(names[i]), Number(report.Norms[i]) };
            row.AddRange(report.Cosines[i].Select(Cosine));
            overall.AddRow(row.ToArray());
        }
        console.Write(overall);

        if (!perModule)
            return;
        var pairs = new List<(int I, int J)>();
        for (int i = 0; i < names.Count; i++)
            for (int j = i + 1; j < names.Count; j++)
                pairs.Add((i, j));
        var modules = new Table().Border(TableBorder.Rounded).Title("per module");
        modules.AddColumn("module");
        foreach (string n in names)
            modules.AddColumn(new TableColumn("norm " + Markup.Escape(n)).RightAligned());
        foreach (var (i, j) in pairs)
            modules.AddColumn(new TableColumn(Markup.Escape($"cos {names[i]}~{names[j]}")).RightAligned());
        foreach (var m in report.Modules)
        {
            var row = new List<string> { Markup.Escape(m.Module) };
            row.AddRange(m.Norms.Select((v, i) => m.Present[i] ? Number(v) : "-"));
            row.AddRange(pairs.Select(p => Cosine(m.Cosines[p.I][p.J])));
            modules.AddRow(row.ToArray());
        }
        console.Write(modules);
    }

    private static string Number(double value) => value.ToString("G4", CultureInfo.InvariantCulture);

    private static string Cosine(double? value) => value is { } v ? v.ToString("F4", CultureInfo.InvariantCulture) : "n/a";
}
