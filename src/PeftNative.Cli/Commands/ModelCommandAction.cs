using System.CommandLine;
using System.CommandLine.Invocation;

namespace PeftNative.Cli.Commands;

/// <summary>
/// The action of a command that runs a model (eval, score, generate): reports parse errors and
/// stray arguments as bad usage, checks the model options, then hands over to <see cref="Run"/>.
/// </summary>
internal abstract class ModelCommandAction(string name, string usage, ModelArguments modelArguments) : SynchronousCommandLineAction
{
    public override bool ClearsParseErrors => true;

    /// <summary>The usage line, for messages.</summary>
    protected string Usage { get; } = usage;

    public override int Invoke(ParseResult parse)
    {
        if (parse.Errors.Count > 0)
            return Fail(ExitCodes.Usage, $"{parse.Errors[0].Message} ({Usage})");
        if (parse.UnmatchedTokens.Count > 0)
            return Fail(ExitCodes.Usage, $"unexpected argument '{parse.UnmatchedTokens[0]}' ({Usage})");
        var request = modelArguments.TryParse(parse, Usage, out string? error);
        return request is null ? Fail(ExitCodes.Usage, error!) : Run(parse, request);
    }

    /// <summary>The command's own work, after the shared checks.</summary>
    protected abstract int Run(ParseResult parse, ModelRequest request);

    /// <summary>Writes <c>peftnative NAME: reason</c> and returns <paramref name="code"/>.</summary>
    protected int Fail(int code, string reason) => ExitCodes.Fail(name, code, reason);

    /// <summary>Loads the model with its adapters, or reports why not (input error).</summary>
    protected LoadedModel? Load(ModelRequest request, out int exitCode)
    {
        var loaded = request.TryLoad(CommandConsole.Warn, out string? error);
        exitCode = loaded is null ? Fail(ExitCodes.InputError, error!) : 0;
        return loaded;
    }
}
