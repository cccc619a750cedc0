using System.CommandLine;
using PeftNative.Cli.Commands;

namespace PeftNative.Cli;

/// <summary>Entry point of the peftnative command.</summary>
public static class Program
{
    /// <summary>Runs the command line.</summary>
    public static int Main(string[] args)
    {
        var root = new RootCommand("peftnative: compose LoRA and (IA)^3 adapters by arithmetic, merge them into base models, evaluate them.")
        {
            BenchCommand.Create(),
            ComposeCommand.Create(),
            EvalCommand.Create(),
            GenerateCommand.Create(),
            InspectCommand.Create(),
            SimilarityCommand.Create(),
            ScoreCommand.Create(),
        };
        return root.Parse(args).Invoke();
    }
}
