using PeftNative.Adapters;
using PeftNative.SafeTensors;

namespace PeftNative.Models;

/// <summary>
/// A Hugging Face model directory: config.json, the weights (model.safetensors or a sharded
/// checkpoint with model.safetensors.index.json, opened header-only and memory-mapped through
/// <see cref="SafetensorsCollection"/>), and the tokenizer files. Also answers the questions a
/// merge asks of the base: which tensor an adapter's module path refers to
/// (<see cref="ResolveWeightName"/>) and whether it is stored [in, out] (<see cref="IsFanInFanOut"/>).
/// Disposing releases the weights.
/// </summary>
public sealed class HuggingFaceModelDirectory : IDisposable
{
    private HuggingFaceModelDirectory(string directoryPath, ModelConfig config, SafetensorsCollection weights, TokenizerFiles tokenizer)
    {
        DirectoryPath = directoryPath;
        Config = config;
        Weights = weights;
        Tokenizer = tokenizer;
    }

    /// <summary>The directory.</summary>
    public string DirectoryPath { get; }

    /// <summary>config.json.</summary>
    public ModelConfig Config { get; }

    /// <summary>The weights (single file or shards), zero-copy views valid until disposal.</summary>
    public SafetensorsCollection Weights { get; }

    /// <summary>The tokenizer files present.</summary>
    public TokenizerFiles Tokenizer { get; }

    /// <summary>Opens a model directory.</summary>
    /// <exception cref="DirectoryNotFoundException">No such directory.</exception>
    /// <exception cref="AdapterFormatException">No or invalid config.json, or only pickle weights (pytorch_model.bin), or no weights.</exception>
    /// <exception cref="SafetensorsFormatException">A weights file or the shard index is broken.</exception>
    public static HuggingFaceModelDirectory Open(string directory)
    {
        ArgumentNullException.ThrowIfNull(directory);
        string dir = Path.GetFullPath(directory);
        if (!Directory.Exists(dir))
            throw new DirectoryNotFoundException($"model directory not found: {dir}");
        string configPath = Path.Combine(dir, ModelConfig.FileName);
        if (!File.Exists(configPath))
            throw new AdapterFormatException(dir, null, $"no {ModelConfig.FileName}: not a Hugging Face model directory");
        var config = ModelConfig.Load(configPath);
        if (!Directory.EnumerateFiles(dir, "*.safetensors").Any())
        {
            string? pickle = new[] { "pytorch_model.bin", "pytorch_model.bin.index.json" }
                .Select(n => Path.Combine(dir, n)).FirstOrDefault(File.Exists);
            if (pickle is not null)
                throw new AdapterFormatException(pickle, null,
                    "is a PyTorch pickle checkpoint, which PeftNative does not load (unpickling can run code). Convert it once with transformers: " +
                    "AutoModelForCausalLM.from_pretrained(dir).save_pretrained(out_dir, safe_serialization=True)");
            throw new AdapterFormatException(dir, null, "holds no .safetensors weights");
        }
        var weights = SafetensorsCollection.Open(dir);
        return new HuggingFaceModelDirectory(dir, config, weights, TokenizerFiles.Find(dir));
    }

    /// <summary>True when the module's weight is a Conv1D stored [in, out] (GPT-2 c_attn, c_proj, c_fc), the fan_in_fan_out layout.</summary>
    public bool IsFanInFanOut(string modulePath) => WeightLayout.IsFanInFanOut(Config.ModelType, modulePath);

    /// <summary>
    /// The checkpoint tensor name of a module's parameter, trying in order: <c>&lt;module&gt;.&lt;param&gt;</c>;
    /// the module without its first component (hub GPT-2 checkpoints store <c>h.0.attn.c_attn.weight</c>
    /// for the model's <c>transformer.h.0.attn.c_attn</c>); the module under <c>transformer.</c> or
    /// <c>model.</c> (an adapter trained on the bare base model). Null when none exists.
    /// </summary>
    public string? TryResolveTensorName(string modulePath, string parameter = "weight")
    {
        foreach (string candidate in Candidates(modulePath, parameter))
        {
            if (Weights.Contains(candidate))
                return candidate;
        }
        return null;
    }

    /// <summary>The weight tensor of a module (see <see cref="TryResolveTensorName"/>).</summary>
    /// <exception cref="KeyNotFoundException">No candidate exists; the message lists the names tried.</exception>
    public string ResolveWeightName(string modulePath) => ResolveTensorName(modulePath, "weight");

    /// <summary>A parameter tensor of a module ("weight", "bias"; see <see cref="TryResolveTensorName"/>).</summary>
    /// <exception cref="KeyNotFoundException">No candidate exists; the message lists the names tried.</exception>
    public string ResolveTensorName(string modulePath, string parameter) =>
        TryResolveTensorName(modulePath, parameter)
        ?? throw new KeyNotFoundException($"{Weights.SourcePath}: no tensor for module {modulePath} (tried {string.Join(", ", Candidates(modulePath, parameter))})");

    /// <summary>Releases the weights.</summary>
    public void Dispose() => Weights.Dispose();

    private static IEnumerable<string> Candidates(string modulePath, string parameter)
    {
        ArgumentException.ThrowIfNullOrEmpty(modulePath);
        ArgumentException.ThrowIfNullOrEmpty(parameter);
        yield return $"{modulePath}.{parameter}";
        int dot = modulePath.IndexOf('.', StringComparison.Ordinal);
        if (dot > 0 && dot < modulePath.Length - 1)
            yield return $"{modulePath[(dot + 1)..]}.{parameter}";
        foreach (string prefix in (string[])["transformer.", "model."])
        {
            if (!modulePath.StartsWith(prefix, StringComparison.Ordinal))
                yield return $"{prefix}{modulePath}.{parameter}";
        }
    }
}
