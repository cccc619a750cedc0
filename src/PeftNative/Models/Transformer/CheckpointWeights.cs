using PeftNative.Adapters;

namespace PeftNative.Models.Transformer;

/// <summary>
/// Finds the tensors a model needs in its checkpoint and checks their shape and dtype, so a
/// missing or misshapen tensor is one clear error naming the file and tensor instead of an index
/// error deep in a product. Names are tried as <see cref="HuggingFaceModelDirectory.TryResolveTensorName"/>
/// does (with or without <c>transformer.</c> / <c>model.</c>).
/// </summary>
internal sealed class CheckpointWeights(HuggingFaceModelDirectory directory)
{
    /// <summary>The directory the weights come from.</summary>
    public HuggingFaceModelDirectory Directory { get; } = directory;

    /// <summary>A zero-copy 2-D view, checked to be <paramref name="rows"/> × <paramref name="columns"/> of f32/f16/bf16.</summary>
    public (string Name, Tensor Tensor) Matrix(string module, long rows, long columns, string parameter = "weight")
    {
        string name = Resolve(module, parameter);
        Tensor t = Directory.Weights.GetTensor(name);
        Check(name, t, [rows, columns]);
        return (name, t);
    }

    /// <summary>A vector parameter (norm weight, bias) converted to f32.</summary>
    public float[] Vector(string module, string parameter, long length)
    {
        string name = Resolve(module, parameter);
        Tensor t = Directory.Weights.GetTensor(name);
        Check(name, t, [length]);
        return TensorRows.ToFloats(t);
    }

    /// <summary>True when the checkpoint holds the parameter.</summary>
    public bool Has(string module, string parameter) => Directory.TryResolveTensorName(module, parameter) is not null;

    private string Resolve(string module, string parameter) =>
        Directory.TryResolveTensorName(module, parameter)
        ?? throw new AdapterFormatException(WeightsFile, $"{module}.{parameter}",
            $"missing tensor: the {Directory.Config.ModelType} forward pass needs it (no {module}.{parameter} with or without a transformer./model. prefix)");

    // The single weights file, or the shard index / directory of a sharded checkpoint.
    private string WeightsFile => Directory.Weights.Files.Count == 1 ? Directory.Weights.Files[0] : Directory.Weights.SourcePath;

    private void Check(string name, Tensor t, long[] expected)
    {
        string file = Directory.Weights.GetInfo(name).FilePath;
        if (!t.Shape.SequenceEqual(expected))
            throw new AdapterFormatException(file, name,
                $"has shape [{string.Join(", ", t.Shape.ToArray())}], the config implies [{string.Join(", ", expected)}]");
        if (!t.DType.IsKernelFloat())
            throw new AdapterFormatException(file, name, $"has dtype {t.DType}; the forward pass reads F32, F16 or BF16 weights");
    }
}
