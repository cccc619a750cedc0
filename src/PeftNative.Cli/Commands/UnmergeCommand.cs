using System.CommandLine;
using System.CommandLine.Invocation;
using System.Globalization;
using PeftNative.Adapters;
using PeftNative.Merging;

namespace PeftNative.Cli.Commands;

/// <summary>
/// <c>peftnative unmerge --model DIR --adapter DIR --out DIR [--reference DIR] [merge options]</c>:
/// takes a merged adapter back out of a model (<see cref="ModelMerger.Unmerge"/>). With
/// <c>--reference</c> (the original base), prints the round-trip report (<see cref="RoundTripReport"/>):
/// per touched tensor the max absolute and relative error, and whether every other tensor is
/// byte-identical. Exit codes (<see cref="ExitCodes"/>): 0; 1 when the report finds an untouched
/// tensor that differs or a missing tensor; 2 for bad usage or a bad input (one line on standard
/// error, nothing written).
/// </summary>
public static class UnmergeCommand
{
    private const string Usage = "usage: peftnative unmerge --model DIR --adapter DIR --out DIR [--reference DIR] [--dtype keep|f32|bf16|f16] [--json]";

    /// <summary>Creates the <c>unmerge</c> subcommand.</summary>
    public static Command Create()
    {
        var merge = new MergeArguments();
        merge.Adapters.Description = "The adapter that was merged into --model: a PEFT adapter directory.";
        var reference = new Option<string?>("--reference")
        {
            Description = "The original base model: compare the unmerged output with it and report the max absolute and relative error per touched tensor.",
            HelpName = "DIR",
        };
        var command = new Command("unmerge",
            "Take a merged adapter back out of a model (LoRA: subtract s*B@A; (IA)^3: divide by l, refusing zeros in l) and write the result as a new " +
            "directory, as merge does. modules_to_save tensors keep their values (the base values are not in the adapter). Exit code 0; 1 for a failed " +
            "round-trip check; 2 for bad usage or a bad input.");
        foreach (var option in merge.All.Append(reference))
            command.Options.Add(option);
        command.Action = new UnmergeAction(merge, reference);
        return command;
    }

    private sealed class UnmergeAction(MergeArguments merge, Option<string?> reference) : SynchronousCommandLineAction
    {
        public override bool ClearsParseErrors => true;

        public override int Invoke(ParseResult parse)
        {
            if (merge.TryParse(parse, Usage, out string? usage) is not { } common)
                return Fail(ExitCodes.Usage, usage!);
            string[] adapters = parse.GetValue(merge.Adapters) ?? [];
            if (adapters.Length != 1)
                return Fail(ExitCodes.Usage, $"give exactly one --adapter DIR ({Usage})");
            string? referenceDir = parse.GetValue(reference);
            if (referenceDir is not null && !Directory.Exists(referenceDir))
                return Fail(ExitCodes.InputError, $"--reference {Path.GetFullPath(referenceDir)} is not a directory");

            using var adapter = MergeArguments.TryLoadAdapter("unmerge", adapters[0], out int failed);
            if (adapter is null)
                return failed;
            var options = referenceDir is null ? common.Options : common.Options with { ProtectedDirectories = [referenceDir] };
            return MergeRunner.Run("unmerge", ModelMerger.Unmerge, common.Model, adapter, common.Out, options, parse.GetValue(merge.Json),
                referenceDir is null ? null : result => Report(result, referenceDir));
        }
    }

    private static (List<string> Lines, Action<System.Text.Json.Utf8JsonWriter>? Json, bool Failed) Report(MergeResult result, string referenceDir)
    {
        var report = RoundTripReport.Compare(result.OutputDirectory, referenceDir, result.TouchedTensorNames);
        var inv = CultureInfo.InvariantCulture;
        var lines = new List<string>
        {
            string.Create(inv, $"round trip against {Path.GetFullPath(referenceDir)}: {report.Touched.Count} touched tensors, max abs error {report.MaxAbsError:G3}, max relative error {report.MaxRelativeError:G3}; {report.IdenticalUntouched} untouched tensors byte-identical"),
        };
        lines.AddRange(report.Touched.Select(t => string.Create(inv, $"  {t.Name}: max abs {t.MaxAbsError:G3}, relative {t.MaxRelativeError:G3}")));
        lines.AddRange(report.Problems.Select(p => "problem: " + p));
        return (lines, w =>
        {
            w.WriteStartObject("round_trip");
            w.WriteString("reference", Path.GetFullPath(referenceDir));
            Number(w, "max_abs_error", report.MaxAbsError);
            Number(w, "max_relative_error", report.MaxRelativeError);
            w.WriteNumber("identical_untouched", report.IdenticalUntouched);
            w.WriteStartArray("tensors");
            foreach (var t in report.Touched)
            {
                w.WriteStartObject();
                w.WriteString("name", t.Name);
                Number(w, "max_abs_error", t.MaxAbsError);
                Number(w, "max_relative_error", t.MaxRelativeError);
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteStartArray("problems");
            foreach (string p in report.Problems)
                w.WriteStringValue(p);
            w.WriteEndArray();
            w.WriteEndObject();
        }, report.Problems.Count > 0);
    }

    /// <summary>A number, or null where it is not finite (JSON has no infinity).</summary>
    private static void Number(System.Text.Json.Utf8JsonWriter w, string name, double value)
    {
        if (double.IsFinite(value))
            w.WriteNumber(name, value);
        else
            w.WriteNull(name);
    }

    private static int Fail(int code, string reason) => ExitCodes.Fail("unmerge", code, reason);
}
