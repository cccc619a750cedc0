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
            InspectCommand.Create(),
            MergeCommand.Create(),
            UnmergeCommand.Create(),
            SimilarityCommand.Create(),
        };
        return root.Parse(args).Invoke();
    }
}
