using System.Text.Json.Nodes;
using PeftNative.Models;
using PeftNative.SafeTensors;

namespace PeftNative.Merging;

/// <summary>
/// The files of a model directory other than the weights that a merged model needs beside them:
/// config.json (byte-identical, or with torch_dtype updated when the merge changes the dtype),
/// generation_config.json and the tokenizer files. Other files (READMEs, pickle checkpoints,
/// training state) are not copied: they would describe or hold the unmerged model.
/// </summary>
internal static class ModelSideFiles
{
    /// <summary>Copied unchanged when present.</summary>
    public static readonly IReadOnlyList<string> CopiedNames =
    [
        "generation_config.json", "tokenizer.json", "tokenizer.model", "tokenizer_config.json", "special_tokens_map.json",
        "added_tokens.json", "vocab.json", "merges.txt", "vocab.txt", "chat_template.jinja", "chat_template.json",
    ];

    /// <summary>Writes the side files into <paramref name="files"/>' directory; returns the bytes written.</summary>
    public static long Write(HuggingFaceModelDirectory model, AtomicFileSet files, string targetDirectory, DType? outputDType)
    {
        long bytes = 0;
        string configPath = Path.Combine(model.DirectoryPath, ModelConfig.FileName);
        byte[] config = File.ReadAllBytes(configPath);
        if (outputDType is { } dtype && model.Config.WeightsDType is { } current && current != dtype)
        {
            JsonObject json = model.Config.ToJsonObject();
            string name = TorchName(dtype);
            if (json.ContainsKey("dtype"))
                json["dtype"] = name;
            if (json.ContainsKey("torch_dtype") || !json.ContainsKey("dtype"))
                json["torch_dtype"] = name;
            config = System.Text.Encoding.UTF8.GetBytes(PythonJson.Serialize(json) + "\n");
        }
        files.Add(Path.Combine(targetDirectory, ModelConfig.FileName), config);
        bytes += config.Length;
        foreach (string name in CopiedNames)
        {
            string source = Path.Combine(model.DirectoryPath, name);
            if (!File.Exists(source))
                continue;
            using var input = new FileStream(source, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
            using var output = files.Create(Path.Combine(targetDirectory, name));
            input.CopyTo(output);
            bytes += output.Position;
            files.Finish(output);
        }
        return bytes;
    }

    /// <summary>transformers' name of a dtype ("bfloat16", "float16", "float32").</summary>
    public static string TorchName(DType dtype) => dtype switch
    {
        DType.BF16 => "bfloat16",
        DType.F16 => "float16",
        DType.F32 => "float32",
        DType.F64 => "float64",
        _ => dtype.ToString().ToLowerInvariant(),
    };
}
