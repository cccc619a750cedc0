using PeftNative.Adapters;
using PeftNative.Models;

namespace PeftNative.Merging;

/// <summary>
/// Refuses an output directory that is, contains or lies inside an input: the model directory, the
/// directories its weight files really live in (Hugging Face caches link shards to blobs), the
/// adapter's directory and any the caller adds. Paths are compared with symbolic links resolved.
/// </summary>
internal static class OutputLocationGuard
{
    /// <exception cref="ArgumentException">The output overlaps an input (the message names both).</exception>
    public static void Check(string outputDirectory, HuggingFaceModelDirectory model, PeftAdapter adapter, IEnumerable<string> more)
    {
        string output = RealPath.Resolve(outputDirectory);
        var inputs = new List<(string What, string Path)> { ("the model directory", model.DirectoryPath) };
        inputs.AddRange(model.Weights.Files.Select(f => ("the directory of model file " + Path.GetFileName(f), Path.GetDirectoryName(RealPath.Resolve(f))!)));
        if (adapter.DirectoryPath is { } a)
            inputs.Add(("the adapter directory", a));
        else if (adapter.WeightsPath is { } w)
            inputs.Add(("the adapter's directory", Path.GetDirectoryName(Path.GetFullPath(w))!));
        inputs.AddRange(more.Select(d => ("input directory", d)));
        foreach (var (what, path) in inputs)
        {
            string input = RealPath.Resolve(path);
            if (RealPath.IsSameOrInside(output, input))
                throw new ArgumentException($"output {outputDirectory} is {(output == input ? "" : "inside ")}{what} {path}; inputs are never written to", nameof(outputDirectory));
            if (RealPath.IsSameOrInside(input, output))
                throw new ArgumentException($"output {outputDirectory} contains {what} {path}; inputs are never written to", nameof(outputDirectory));
        }
    }
}
