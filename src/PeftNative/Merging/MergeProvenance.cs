using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace PeftNative.Merging;

/// <summary>
/// <c>peftnative_merge.json</c>, written into every output: what was merged into what, and how.
/// It also marks the directory as PeftNative's, so a later merge may replace it (and nothing
/// else that exists). Loaders ignore the file.
/// </summary>
internal static class MergeProvenance
{
    /// <summary>The file name.</summary>
    public const string FileName = "peftnative_merge.json";

    /// <summary>The file's bytes.</summary>
    public static byte[] Build(MergeDirection direction, string modelDirectory, string adapterDescription, DType? outputDType,
        IEnumerable<string> touched)
    {
        var json = new JsonObject
        {
            ["operation"] = direction == MergeDirection.Merge ? "merge" : "unmerge",
            ["model"] = modelDirectory,
            ["adapter"] = adapterDescription,
            ["output_dtype"] = outputDType?.SafetensorsName() ?? "keep",
            ["tensors_touched"] = new JsonArray([.. touched.Order(StringComparer.Ordinal).Select(t => (JsonNode)t)]),
            ["peftnative_version"] = typeof(MergeProvenance).Assembly.GetName().Version?.ToString(),
        };
        return Encoding.UTF8.GetBytes(PythonJson.Serialize(json) + "\n");
    }
}
