namespace PeftNative.Cli.Commands;

/// <summary>
/// The exit codes every subcommand shares — 0 ok, 1 a check failed, 2 bad usage or bad input —
/// and the one-line failure report on standard error (<c>peftnative COMMAND: reason</c>).
/// </summary>
public static class ExitCodes
{
    /// <summary>The command ran but a check it makes failed (e.g. merged and run-time logits disagree).</summary>
    public const int FailedCheck = 1;

    /// <summary>A missing or broken input, or an operation the library refused.</summary>
    public const int InputError = 2;

    /// <summary>Bad usage: unknown options, bad values, missing arguments.</summary>
    public const int Usage = 2;

    /// <summary>Writes <c>peftnative COMMAND: reason</c> on one line to standard error and returns <paramref name="code"/>.</summary>
    public static int Fail(string command, int code, string reason)
    {
        string prefix = command.Length == 0 ? "peftnative" : "peftnative " + command;
        Console.Error.WriteLine($"{prefix}: {reason.ReplaceLineEndings(" ")}");
        return code;
    }
}
