using System.CommandLine;
using System.CommandLine.Invocation;
using System.Globalization;
using System.Text;
using System.Text.Json;
using PeftNative.Adapters;
using PeftNative.Composition;
using PeftNative.Composition.Diagnostics;

namespace PeftNative.Cli.Commands;

/// <summary>
/// <c>peftnative compose EXPR --adapter NAME=DIR ... --out DIR [--method M] [options] [--json]</c>:
/// composes adapters by an expression (<see cref="AdapterComposer.Compose"/>), writes the result,
/// and prints what was done with the composition diagnostics (<see cref="CompositionDiagnostics"/>).
/// Exit codes: 0; 2 with a one-line reason on standard error for bad input (a missing or broken
/// adapter, an output that exists, a composition the composer refuses) and for bad usage (options,
/// adapter syntax, method, expression).
/// </summary>
public static class ComposeCommand
{
    /// <summary>Exit code for a missing or broken input, or a refused composition.</summary>
    public const int InputErrorExitCode = ExitCodes.InputError;

    /// <summary>Exit code for bad usage.</summary>
    public const int UsageExitCode = ExitCodes.Usage;

    private const string Usage = "usage: peftnative compose EXPR --adapter NAME=DIR ... --out DIR [--method M] [--json]";

    /// <summary>Creates the <c>compose</c> subcommand.</summary>
    public static Command Create()
    {
        var o = new ComposeOptions();
        var command = new Command("compose",
            "Compose adapters by a linear expression (\"0.5*a + 0.5*b\", \"chat - 0.6*toxic\", \"0.7*c + 0.3*(x - y)\") and write the result as a PEFT adapter " +
            "directory. Prints the terms as applied, the method, the output's modules and rank, warnings, and for the paper method its error against the exact " +
            "sum (computed from the factors) and whether the adapters' A factors look like one initialisation. Exit code 0; 2 for a missing or broken input, a " +
            "refused composition or bad usage.")
        {
            o.Expression, o.Adapters, o.Out,
        };
        foreach (var option in o.Composition.All)
            command.Options.Add(option);
        command.Options.Add(o.Overwrite);
        command.Options.Add(o.Json);
        command.Action = new ComposeAction(o);
        return command;
    }

    /// <summary>The command's arguments and options.</summary>
    private sealed class ComposeOptions
    {
        public Argument<string> Expression { get; } = new("EXPR") { Description = "The expression over adapter names, e.g. \"0.5*a + 0.5*b\" (quote it for the shell)." };

        public Option<string[]> Adapters { get; } = new("--adapter") { Description = AdapterArguments.Description, HelpName = "NAME=DIR" };

        public Option<string?> Out { get; } = new("--out") { Description = "Directory to write the composed adapter to (required).", HelpName = "DIR" };

        public CompositionArguments Composition { get; } = new();

        public Option<bool> Overwrite { get; } = new("--overwrite") { Description = "Replace an adapter already in --out." };

        public Option<bool> Json { get; } = new("--json") { Description = "Print one JSON object instead of the summary." };
    }

    private sealed class ComposeAction(ComposeOptions o) : SynchronousCommandLineAction
    {
        public override bool ClearsParseErrors => true;

        public override int Invoke(ParseResult parse)
        {
            if (parse.Errors.Count > 0)
                return Fail(UsageExitCode, $"{parse.Errors[0].Message} ({Usage})");
            if (parse.UnmatchedTokens.Count > 0)
                return Fail(UsageExitCode, $"unexpected argument '{parse.UnmatchedTokens[0]}' ({Usage})");
            var request = ParseRequest(parse, o, out string? usage);
            if (request is null)
                return Fail(UsageExitCode, usage!);
            return Run(request);
        }
    }

    /// <summary>Everything the user asked for, checked for usage errors.</summary>
    private sealed record Request(string Text, ModuleExpression Expression, List<(string Name, string Directory)> Adapters, List<string> Unused,
        string Out, CompositionOptions Options, bool Overwrite, bool Json);

    private static Request? ParseRequest(ParseResult parse, ComposeOptions o, out string? usage)
    {
        usage = CompositionArguments.UnknownOptionAsExpression(parse.GetValue(o.Expression), Usage);
        if (usage is not null)
            return null;
        var adapters = AdapterArguments.TryParse(parse.GetValue(o.Adapters), out string? adapterError);
        if (adapters is null)
        {
            usage = adapterError;
            return null;
        }
        if (adapters.Count == 0)
        {
            usage = $"at least one --adapter NAME=DIR is needed ({Usage})";
            return null;
        }
        string? outDir = parse.GetValue(o.Out);
        if (string.IsNullOrWhiteSpace(outDir))
        {
            usage = $"--out DIR is required ({Usage})";
            return null;
        }

        var options = o.Composition.TryParse(parse, out usage);
        if (options is null)
            return null;

        string text = parse.GetValue(o.Expression) ?? "";
        if (CompositionArguments.TryParseExpression(text, adapters, out usage) is not { } parsed)
            return null;
        var (expression, used, unused) = parsed;
        return new Request(text, expression, used, unused, outDir, options,
            parse.GetValue(o.Overwrite), parse.GetValue(o.Json));
    }

    private static int Run(Request request)
    {
        string outDir = Path.GetFullPath(request.Out);
        if (File.Exists(outDir))
            return Fail(InputErrorExitCode, $"--out {outDir} is a file, not a directory");
        foreach (var (name, dir) in request.Adapters)
        {
            if (string.Equals(Path.TrimEndingDirectorySeparator(Path.GetFullPath(dir)), Path.TrimEndingDirectorySeparator(outDir), StringComparison.Ordinal))
                return Fail(InputErrorExitCode, $"--out {outDir} is the directory of input adapter '{name}'; inputs are never overwritten");
        }
        if (!request.Overwrite && (File.Exists(Path.Combine(outDir, AdapterFiles.Config)) || File.Exists(Path.Combine(outDir, AdapterFiles.Safetensors))))
            return Fail(InputErrorExitCode, $"{outDir} already holds an adapter; pass --overwrite to replace it");

        Dictionary<string, PeftAdapter> adapters;
        try
        {
            adapters = AdapterArguments.Load(request.Adapters);
        }
        catch (IOException e)
        {
            return Fail(InputErrorExitCode, e.Message);
        }
        try
        {
            var progress = Console.IsErrorRedirected ? null : new ProgressLine();
            CompositionResult result;
            try
            {
                result = AdapterComposer.Compose(request.Expression, adapters, request.Options, progress);
            }
            catch (Exception e) when (e is ArgumentException or InvalidDataException)
            {
                progress?.Clear();
                return Fail(InputErrorExitCode, "composition refused: " + AdapterArguments.OneLine(e.Message));
            }
            progress?.Clear();
            using (result)
            {
                try
                {
                    result.Save(outDir, request.Overwrite);
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    return Fail(InputErrorExitCode, $"writing {outDir}: {AdapterArguments.OneLine(e.Message)}");
                }
                var (diagnostics, diagnosticsProblem) = Diagnose(result.Terms, adapters);
                var summary = new Summary(request, outDir, result, diagnostics, diagnosticsProblem);
                Console.Out.WriteLine(request.Json ? summary.ToJson() : summary.ToText());
                return 0;
            }
        }
        finally
        {
            AdapterArguments.DisposeAll(adapters);
        }
    }

    /// <summary>The diagnostics of the terms as applied; a failure is reported, not fatal (the adapter is already written).</summary>
    private static (CompositionDiagnosticsReport? Report, string? Problem) Diagnose(IReadOnlyList<CompositionTerm> terms, Dictionary<string, PeftAdapter> adapters)
    {
        try
        {
            return (CompositionDiagnostics.Analyze(terms, adapters), null);
        }
        catch (ArgumentException e)
        {
            return (null, "diagnostics not computed: " + AdapterArguments.OneLine(e.Message));
        }
    }

    private static int Fail(int code, string reason) => ExitCodes.Fail("compose", code, reason);

    /// <summary>What the command prints after a composition.</summary>
    private sealed class Summary(Request request, string outDir, CompositionResult result, CompositionDiagnosticsReport? diagnostics, string? diagnosticsProblem)
    {
        private bool Paper => request.Options.Method == CompositionMethod.Paper;

        /// <summary>The composer's warnings, the paper method's diagnostics warnings, and notes of this command.</summary>
        private List<string> Warnings()
        {
            var warnings = new List<string>(result.Warnings);
            if (Paper && diagnostics is not null)
                warnings.AddRange(diagnostics.Warnings);
            if (diagnosticsProblem is not null)
                warnings.Add(diagnosticsProblem);
            if (request.Unused.Count > 0)
                warnings.Add($"--adapter {string.Join(", ", request.Unused)}: not used by the expression (not loaded)");
            return warnings;
        }

        /// <summary>"0.5*a + 0.5*b", "1*a - 0.6*b": each coefficient round-trips.</summary>
        private static string TermsText(IReadOnlyList<CompositionTerm> terms)
        {
            var sb = new StringBuilder();
            for (int i = 0; i < terms.Count; i++)
            {
                double c = terms[i].Coefficient;
                string magnitude = Math.Abs(c).ToString("R", CultureInfo.InvariantCulture);
                sb.Append(i == 0 ? (c < 0 ? "-" : "") : (c < 0 ? " - " : " + ")).Append(magnitude).Append('*').Append(terms[i].Adapter);
            }
            return sb.ToString();
        }

        private IReadOnlyList<int> Ranks() => result.Adapter.LoraModules.Values.Select(m => m.Rank).Distinct().Order().ToList();

        public string ToText()
        {
            var sb = new StringBuilder();
            var inv = CultureInfo.InvariantCulture;
            var adapter = result.Adapter;
            sb.AppendLine($"composed {request.Text} with {request.Options.Method.Name()} into {outDir}");
            string normalised = Paper && CoefficientNormalization.Applies(request.Expression.Expand(), request.Options.RawWeights)
                ? " (positive coefficients rescaled to sum to 1; --raw-weights keeps them)" : "";
            sb.AppendLine($"  terms as applied: {TermsText(result.Terms)}{normalised}");
            var ranks = Ranks();
            string rankText = adapter.Type == PeftType.Lora ? (ranks.Count == 1 ? $", rank {ranks[0]}" : $", ranks {string.Join("/", ranks)}") : "";
            sb.AppendLine($"  output: {ModuleUpdateSet.Label(adapter.Type)}, {adapter.ModuleCount} modules{rankText}");
            if (Paper && diagnostics is not null && adapter.Type == PeftType.Lora)
            {
                if (diagnostics.OverallCrossTermError is { } overall)
                {
                    var worst = diagnostics.WorstCrossTermError;
                    string worstText = worst?.RelativeError is { } w ? string.Create(inv, $", worst {w:G3} ({worst.Module})") : "";
                    sb.AppendLine(string.Create(inv, $"  paper vs exact sum (relative Frobenius error of the update): overall {overall:G3}{worstText}"));
                }
                foreach (var a in diagnostics.AFactorAlignments)
                {
                    string mean = a.MeanCosine is { } c ? c.ToString("F3", inv) : "n/a";
                    sb.AppendLine(string.Create(inv, $"  A-factor cosine {a.First}~{a.Second}: mean {mean} over {a.Modules} modules (below {diagnostics.AFactorCosineThreshold:G3} looks like different initialisations)"));
                }
            }
            if (diagnostics is not null)
            {
                var s = diagnostics.Similarity;
                sb.AppendLine("  update norms: " + string.Join(", ", s.Adapters.Select((n, i) => string.Create(inv, $"{n} {s.Norms[i]:G4}"))));
                for (int i = 0; i < s.Adapters.Count; i++)
                    for (int j = i + 1; j < s.Adapters.Count; j++)
                        sb.AppendLine(string.Create(inv, $"  cosine {s.Adapters[i]}~{s.Adapters[j]}: {(s.Cosines[i][j] is { } c ? c.ToString("F3", inv) : "n/a")}"));
            }
            foreach (string w in Warnings())
                sb.AppendLine("warning: " + w);
            return sb.ToString().TrimEnd();
        }

        public string ToJson()
        {
            using var stream = new MemoryStream();
            using (var w = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
            {
                var adapter = result.Adapter;
                w.WriteStartObject();
                w.WriteString("expression", request.Text);
                w.WriteString("method", request.Options.Method.Name());
                w.WriteString("out", outDir);
                w.WriteStartArray("terms");
                foreach (var t in result.Terms)
                {
                    w.WriteStartObject();
                    w.WriteString("adapter", t.Adapter);
                    w.WriteNumber("coefficient", t.Coefficient);
                    w.WriteEndObject();
                }
                w.WriteEndArray();
                w.WriteString("peft_type", adapter.Type == PeftType.Lora ? "lora" : "ia3");
                w.WriteNumber("modules", adapter.ModuleCount);
                w.WriteStartArray("ranks");
                foreach (int r in Ranks())
                    w.WriteNumberValue(r);
                w.WriteEndArray();
                w.WriteStartArray("warnings");
                foreach (string s in Warnings())
                    w.WriteStringValue(s);
                w.WriteEndArray();
                w.WriteStartObject("provenance");
                foreach (var kv in result.Provenance)
                    w.WriteString(kv.Key, kv.Value);
                w.WriteEndObject();
                w.WritePropertyName("diagnostics");
                if (diagnostics is null)
                    w.WriteNullValue();
                else
                    diagnostics.WriteJson(w, perModule: true);
                w.WriteEndObject();
            }
            return Encoding.UTF8.GetString(stream.ToArray());
        }
    }

    /// <summary>
    /// Progress on standard error as one rewritten line, only for a terminal. Reports arrive on the
    /// composer's threads, synchronously (Progress&lt;T&gt; would post them out of order); at most one
    /// redraw per whole percent.
    /// </summary>
    private sealed class ProgressLine : IProgress<double>
    {
        private readonly Lock _lock = new();
        private int _shown = -1;

        public void Report(double value)
        {
            int percent = (int)Math.Clamp(value * 100, 0, 100);
            lock (_lock)
            {
                if (percent == _shown)
                    return;
                _shown = percent;
                Console.Error.Write(string.Create(CultureInfo.InvariantCulture, $"\rcompose: {percent,3}%"));
            }
        }

        public void Clear()
        {
            lock (_lock)
            {
                if (_shown >= 0)
                    Console.Error.Write("\r" + new string(' ', 16) + "\r");
            }
        }
    }
}
