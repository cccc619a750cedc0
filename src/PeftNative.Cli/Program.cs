using System.CommandLine;
using System.CommandLine.Help;
using System.CommandLine.Invocation;
using PeftNative.Cli.Commands;

namespace PeftNative.Cli;

/// <summary>Entry point of the peftnative command.</summary>
public static class Program
{
    /// <summary>Runs the command line.</summary>
    public static int Main(string[] args)
    {
        var verbose = new Option<bool>("--verbose") { Description = "Print the stack trace of an unexpected error.", Recursive = true };
        // A plain Command named "peftnative" rather than RootCommand, whose name (and so every
        // "Usage:" line) would be the assembly's file name, PeftNative.Cli.
        var root = new Command("peftnative", "peftnative: compose LoRA and (IA)^3 adapters by arithmetic, merge them into base models, evaluate them.")
        {
            new HelpOption(),
            new VersionOption(),
            verbose,
            BenchCommand.Create(),
            ComposeCommand.Create(),
            DemoCommand.Create(),
            EvalCommand.Create(),
            GenerateCommand.Create(),
            InspectCommand.Create(),
            MergeCommand.Create(),
            UnmergeCommand.Create(),
            SimilarityCommand.Create(),
            ScoreCommand.Create(),
        };
        root.Action = new RootAction();
        var parse = root.Parse(args);
        try
        {
            // Commands report the errors they expect themselves; anything that still escapes gets one
            // line (the stack trace only with --verbose), never the default handler's trace.
            return parse.Invoke(new InvocationConfiguration { EnableDefaultExceptionHandler = false });
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            bool showTrace = parse.GetValue(verbose);
            string command = parse.CommandResult.Command == root ? "" : " " + parse.CommandResult.Command.Name;
            Console.Error.WriteLine($"peftnative{command}: {e.GetType().Name}: {e.Message.ReplaceLineEndings(" ")}" +
                (showTrace ? "" : " (run with --verbose for the stack trace)"));
            if (showTrace)
                Console.Error.WriteLine(e);
            return e is IOException or UnauthorizedAccessException or ArgumentException or FormatException
                ? ExitCodes.InputError
                : ExitCodes.FailedCheck;
        }
    }

    /// <summary>No subcommand, or one that does not exist: one line and the usage exit code.</summary>
    private sealed class RootAction : SynchronousCommandLineAction
    {
        public override bool ClearsParseErrors => true;

        public override int Invoke(ParseResult parse)
        {
            string reason = parse.Errors.Count > 0 ? parse.Errors[0].Message
                : parse.UnmatchedTokens.Count > 0 ? $"unknown command '{parse.UnmatchedTokens[0]}'"
                : "no command given";
            return ExitCodes.Fail("", ExitCodes.Usage, $"{reason} (see peftnative --help)");
        }
    }
}
