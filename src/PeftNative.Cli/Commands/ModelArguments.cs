using System.CommandLine;
using PeftNative.Adapters;
using PeftNative.Composition;
using PeftNative.Models.Transformer;

namespace PeftNative.Cli.Commands;

/// <summary>
/// The model and adapter options that <c>eval</c>, <c>score</c> and <c>generate</c> share:
/// <c>--model DIR [--adapter DIR ... | EXPR --adapter NAME=DIR ... [--method M]] [--runtime] [--threads N]</c>.
/// Plain <c>--adapter DIR</c>s are applied with weight 1 each; with an expression the adapters are
/// composed first (<see cref="AdapterComposer"/>, the paper method unless --method) and the result
/// is applied. Applied means merged into W at load time, or at run time with --runtime.
/// </summary>
internal sealed class ModelArguments
{
    /// <summary>The options' usage line, for error messages.</summary>
    public const string UsagePart = "--model DIR [--adapter DIR | EXPR --adapter NAME=DIR ... [--method M]] [--runtime] [--threads N]";

    public Option<string?> Model { get; } = new("--model") { Description = "A Hugging Face model directory (config.json + safetensors; GPT-2, LLaMA, Mistral, Qwen2).", HelpName = "DIR" };

    public Argument<string?> Expression { get; } = new("EXPR")
    {
        Description = "Optional: compose the adapters by this expression first, e.g. \"0.5*a + 0.5*b\" (then each --adapter is NAME=DIR).",
        Arity = ArgumentArity.ZeroOrOne,
    };

    public Option<string[]> Adapters { get; } = new("--adapter")
    {
        Description = "A PEFT adapter directory to apply (weight 1; repeat to stack several), or NAME=DIR when an expression is given.",
        HelpName = "DIR|NAME=DIR",
    };

    public Option<string?> Method { get; } = new("--method") { Description = "Composition method for the expression (default paper; see compose --help).", HelpName = "M" };

    public Option<bool> Runtime { get; } = new("--runtime") { Description = "Apply the adapters at run time (y = W x + s B (A x), (IA)^3 scaling) instead of merging them into W." };

    public Option<int> Threads { get; } = new("--threads") { Description = "Worker threads (default: all logical CPUs).", HelpName = "N" };

    /// <summary>Adds the options to <paramref name="command"/>.</summary>
    public void AddTo(Command command)
    {
        command.Arguments.Add(Expression);
        foreach (Option o in (Option[])[Model, Adapters, Method, Runtime, Threads])
            command.Options.Add(o);
    }

    /// <summary>Checks the options for usage errors; opens no file.</summary>
    public ModelRequest? TryParse(ParseResult parse, string usage, out string? error)
    {
        error = null;
        string? text = parse.GetValue(Expression);
        if (CompositionArguments.UnknownOptionAsExpression(text, usage) is { } unknown)
        {
            error = unknown;
            return null;
        }
        string? model = parse.GetValue(Model);
        if (string.IsNullOrWhiteSpace(model))
        {
            error = $"--model DIR is required ({usage})";
            return null;
        }
        int threads = parse.GetValue(Threads);
        if (threads < 0)
        {
            error = $"--threads needs a whole number >= 0, got {threads}";
            return null;
        }
        string[] values = parse.GetValue(Adapters) ?? [];
        string? methodText = parse.GetValue(Method);
        bool runtime = parse.GetValue(Runtime);
        if (runtime && values.Length == 0)
        {
            error = "--runtime needs at least one --adapter";
            return null;
        }
        if (text is null)
        {
            if (methodText is not null)
            {
                error = "--method needs an expression (EXPR --adapter NAME=DIR ...)";
                return null;
            }
            if (values.GroupBy(v => v, StringComparer.Ordinal).FirstOrDefault(g => g.Count() > 1) is { } twice)
            {
                error = $"--adapter {twice.Key} is given twice";
                return null;
            }
            return new ModelRequest(model, null, null, values.Select(v => (v, v)).ToList(), CompositionMethod.Paper, runtime, threads);
        }

        var adapters = AdapterArguments.TryParse(values, out error);
        if (adapters is null)
            return null;
        if (adapters.Count == 0)
        {
            error = $"the expression needs --adapter NAME=DIR for its adapters ({usage})";
            return null;
        }
        var method = CompositionMethod.Paper;
        try
        {
            if (methodText is not null)
                method = CompositionMethodNames.Parse(methodText);
        }
        catch (ArgumentException e)
        {
            error = "--method: " + AdapterArguments.OneLine(e.Message.Replace(" (Parameter 'name')", "", StringComparison.Ordinal));
            return null;
        }
        if (CompositionArguments.TryParseExpression(text, adapters, out error) is not { } parsed)
            return null;
        return new ModelRequest(model, text, parsed.Expression, parsed.Used, method, runtime, threads);
    }
}
