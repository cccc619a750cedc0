using System.CommandLine;
using System.CommandLine.Invocation;
using PeftNative.Adapters;
using PeftNative.Composition;
using PeftNative.Merging;

namespace PeftNative.Cli.Commands;

/// <summary>
/// <c>peftnative merge --model DIR (--adapter DIR | EXPR --adapter NAME=DIR ... [compose options]) --out DIR
/// [--dtype keep|f32|bf16|f16] [--max-shard-size SIZE] [--allow-nonfinite] [--threads N] [--backend NAME] [--json]</c>:
/// merges one adapter, or the composition of several (<see cref="AdapterComposer"/>), into a base
/// model (<see cref="ModelMerger.Merge"/>). Exit codes (<see cref="ExitCodes"/>): 0; 2 with one line on
/// standard error for bad usage, a missing or broken input, a module that does not fit the model,
/// an output that overlaps an input, a non-finite result or a refused composition.
/// </summary>
public static class MergeCommand
{
    private const string Usage = "usage: peftnative merge --model DIR (--adapter DIR | EXPR --adapter NAME=DIR ...) --out DIR [--dtype keep|f32|bf16|f16] [--max-shard-size SIZE] [--json]";

    /// <summary>Creates the <c>merge</c> subcommand.</summary>
    public static Command Create()
    {
        var merge = new MergeArguments();
        merge.Adapters.Description = "The adapter: a PEFT adapter directory; with EXPR, NAME=DIR for each adapter the expression names.";
        merge.Adapters.HelpName = "DIR|NAME=DIR";
        var composition = new CompositionArguments();
        var expression = new Argument<string?>("EXPR")
        {
            Description = "Optional: merge a composition of adapters, e.g. \"0.7*chat - 0.3*toxic\" (quote it for the shell), composed as `compose` does.",
            Arity = ArgumentArity.ZeroOrOne,
        };
        var command = new Command("merge",
            "Merge an adapter (or a composition of adapters) into a base model and write the merged model as a new directory, tensor by tensor " +
            "with memory near the largest tensor. Untouched tensors are copied byte for byte; the dtype is kept unless --dtype; shards follow the " +
            "input unless --max-shard-size. A NaN or Inf in a merged tensor stops the merge unless --allow-nonfinite. Exit code 0; 2 for bad usage, a bad input " +
            "or a refused merge (one line on standard error, nothing written).")
        {
            expression,
        };
        foreach (var option in merge.All.Concat(composition.All))
            command.Options.Add(option);
        command.Action = new MergeAction(merge, composition, expression);
        return command;
    }

    private sealed class MergeAction(MergeArguments merge, CompositionArguments composition, Argument<string?> expression) : SynchronousCommandLineAction
    {
        public override bool ClearsParseErrors => true;

        public override int Invoke(ParseResult parse)
        {
            if (merge.TryParse(parse, Usage, out string? usage) is not { } common)
                return Fail(ExitCodes.Usage, usage!);
            string[] adapterValues = parse.GetValue(merge.Adapters) ?? [];
            string? text = parse.GetValue(expression);
            if (CompositionArguments.UnknownOptionAsExpression(text, Usage) is { } unknown)
                return Fail(ExitCodes.Usage, unknown);
            if (text is null)
            {
                if (adapterValues.Length != 1)
                    return Fail(ExitCodes.Usage, $"give one --adapter DIR, or an expression with --adapter NAME=DIR for each adapter ({Usage})");
                if (composition.AnyGiven(parse))
                    return Fail(ExitCodes.Usage, $"composition options need an expression ({Usage})");
                return MergeOne(common, adapterValues[0], parse.GetValue(merge.Json));
            }
            var adapters = AdapterArguments.TryParse(adapterValues, out string? adapterError);
            if (adapters is null)
                return Fail(ExitCodes.Usage, adapterError!);
            var options = composition.TryParse(parse, out usage);
            if (options is null)
                return Fail(ExitCodes.Usage, usage!);
            if (CompositionArguments.TryParseExpression(text, adapters, out usage) is not { } parsed)
                return Fail(ExitCodes.Usage, usage!);
            return MergeComposed(common, text, parsed.Expression, parsed.Used, options, parse.GetValue(merge.Json));
        }
    }

    private static int MergeOne((string Model, string Out, MergeOptions Options) common, string adapterDir, bool json)
    {
        using var adapter = MergeArguments.TryLoadAdapter("merge", adapterDir, out int failed);
        if (adapter is null)
            return failed;
        return MergeRunner.Run("merge", ModelMerger.Merge, common.Model, adapter, common.Out, common.Options, json);
    }

    private static int MergeComposed((string Model, string Out, MergeOptions Options) common, string text, ModuleExpression expression,
        List<(string Name, string Directory)> used, CompositionOptions compositionOptions, bool json)
    {
        Dictionary<string, PeftAdapter> adapters;
        try
        {
            adapters = AdapterArguments.Load(used);
        }
        catch (IOException e)
        {
            return Fail(ExitCodes.InputError, e.Message);
        }
        try
        {
            CompositionResult composed;
            try
            {
                composed = AdapterComposer.Compose(expression, adapters, compositionOptions);
            }
            catch (Exception e) when (e is ArgumentException or InvalidDataException)
            {
                return Fail(ExitCodes.InputError, "composition refused: " + AdapterArguments.OneLine(e.Message));
            }
            using (composed)
            {
                var options = common.Options with
                {
                    ProtectedDirectories = [.. used.Select(u => u.Directory)],
                    AdapterDescription = $"{text} ({compositionOptions.Method.Name()}; {string.Join(", ", used.Select(u => $"{u.Name}={Path.GetFullPath(u.Directory)}"))})",
                };
                return MergeRunner.Run("merge", ModelMerger.Merge, common.Model, composed.Adapter, common.Out, options, json);
            }
        }
        finally
        {
            AdapterArguments.DisposeAll(adapters);
        }
    }

    private static int Fail(int code, string reason) => ExitCodes.Fail("merge", code, reason);
}
