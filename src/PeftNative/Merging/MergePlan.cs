using PeftNative.Adapters;
using PeftNative.Backends;
using PeftNative.Models;
using PeftNative.SafeTensors;

namespace PeftNative.Merging;

/// <summary>
/// Which model tensors an adapter changes and how, worked out from the headers and the adapter
/// alone, before anything is written: every LoRA and (IA)^3 module must resolve to a model tensor
/// (<see cref="HuggingFaceModelDirectory.TryResolveTensorName"/>) of the shape its factors imply
/// in that tensor's layout (<see cref="HuggingFaceModelDirectory.IsFanInFanOut"/>: Conv1D weights
/// are stored [in, out]); modules_to_save tensors must match the shape of the tensor they replace;
/// an unmerge must not divide by a zero in l. Each problem is an <see cref="AdapterFormatException"/>
/// naming the adapter file, the module and the model tensor.
/// </summary>
internal sealed class MergePlan
{
    private MergePlan(Dictionary<string, TensorEdit> edits, List<string> notes)
    {
        Edits = edits;
        Notes = notes;
    }

    /// <summary>The edits by model tensor name.</summary>
    public IReadOnlyDictionary<string, TensorEdit> Edits { get; }

    /// <summary>Things the caller should be told (modules_to_save tensors an unmerge cannot restore).</summary>
    public IReadOnlyList<string> Notes { get; }

    /// <summary>Builds and checks the plan.</summary>
    /// <exception cref="AdapterFormatException">A module does not fit the model (named).</exception>
    public static MergePlan Build(HuggingFaceModelDirectory model, PeftAdapter adapter, MergeDirection direction)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(adapter);
        ObjectDisposedException.ThrowIf(adapter.IsDisposed, adapter);
        var builder = new Builder(model, adapter, direction);
        foreach (var m in adapter.LoraModules.Values)
            builder.AddLora(m);
        foreach (var m in adapter.Ia3Modules.Values)
            builder.AddIa3(m);
        foreach (var e in adapter.ExtraTensors.Values)
            builder.AddExtra(e);
        return new MergePlan(builder.Edits, builder.Notes);
    }

    private sealed class Builder(HuggingFaceModelDirectory model, PeftAdapter adapter, MergeDirection direction)
    {
        private readonly string _adapterFile = adapter.WeightsPath ?? adapter.DirectoryPath ?? "the composed adapter";
        private readonly double _sign = direction == MergeDirection.Merge ? 1 : -1;

        public Dictionary<string, TensorEdit> Edits { get; } = new(StringComparer.Ordinal);

        public List<string> Notes { get; } = [];

        public void AddLora(LoraModule m)
        {
            string weight = Resolve(m.ModulePath, "weight", m.ATensorName);
            var info = FloatMatrix(weight, m.ModulePath);
            bool transposed = m.IsEmbedding || model.IsFanInFanOut(m.ModulePath);
            long[] expected = transposed ? [m.InFeatures, m.OutFeatures] : [m.OutFeatures, m.InFeatures];
            if (info.Shape[0] != expected[0] || info.Shape[1] != expected[1])
            {
                string layout = transposed ? "[in, out] (Conv1D / embedding layout)" : "[out, in]";
                throw Mismatch(m.ModulePath, $"A is [{m.Rank}, {m.InFeatures}] and B is [{m.OutFeatures}, {m.Rank}], so the model tensor '{weight}' " +
                    $"should be {Shape(expected)} in its {layout}, but it is {Shape(info.Shape)} in {info.FilePath}");
            }
            float scale = (float)(_sign * m.Scaling);
            if (!float.IsFinite(scale))
                throw Mismatch(m.ModulePath, $"its scaling {m.Scaling} does not fit a 32-bit float");
            var edit = EditFor(weight);
            if (edit.Replacement is not null || edit.Scaling is not null)
                throw Mismatch(m.ModulePath, $"model tensor '{weight}' is also changed by {string.Join(", ", edit.Sources)}");
            edit.FanInFanOut = transposed;
            edit.LowRank.Add(new LowRankUpdate(m.B, m.A, scale));
            edit.Sources.Add(m.ModulePath);

            if (m.BBias is { } bias)
            {
                string biasName = Resolve(m.ModulePath, "bias", m.BTensorName + " (lora_bias)");
                var biasInfo = model.Weights.GetInfo(biasName);
                if (biasInfo.Shape.Count != 1 || biasInfo.Shape[0] != m.OutFeatures || !biasInfo.DType.IsKernelFloat())
                    throw Mismatch(m.ModulePath, $"its lora_B bias has {m.OutFeatures} values but the model bias '{biasName}' is {biasInfo.DType} {Shape(biasInfo.Shape)}");
                var biasEdit = EditFor(biasName);
                biasEdit.VectorAdds.Add((bias, scale));
                biasEdit.Sources.Add(m.ModulePath + " (lora_bias)");
            }
        }

        public void AddIa3(Ia3Module m)
        {
            string weight = Resolve(m.ModulePath, "weight", m.TensorName);
            var info = FloatMatrix(weight, m.ModulePath);
            bool conv = model.IsFanInFanOut(m.ModulePath);
            // Linear W is [out, in]: output features are rows, input features columns; Conv1D swaps them.
            bool rows = m.IsFeedForward == conv;
            long axis = rows ? info.Shape[0] : info.Shape[1];
            string what = m.IsFeedForward ? "input" : "output";
            if (axis != m.Length)
                throw Mismatch(m.ModulePath, $"ia3_l has {m.Length} values but the model tensor '{weight}' {Shape(info.Shape)} has {axis} {what} features " +
                    $"({(rows ? "rows" : "columns")} in its {(conv ? "Conv1D [in, out]" : "[out, in]")} layout) in {info.FilePath}");
            bool inverse = direction == MergeDirection.Unmerge;
            if (inverse)
            {
                long zero = FloatValues.IndexOfZero(m.Vector);
                if (zero >= 0)
                    throw Mismatch(m.TensorName, $"l[{zero}] is 0, so the scaling of model tensor '{weight}' cannot be undone (division by zero); nothing was written");
            }
            var edit = EditFor(weight);
            if (!edit.IsEmpty)
                throw Mismatch(m.ModulePath, $"model tensor '{weight}' is also changed by {string.Join(", ", edit.Sources)}");
            // the kernels take l as a 1-D vector; PEFT stores it [out, 1] or [1, in]
            var l = Tensor.FromPointer(m.Vector.Pointer, m.Vector.DType, [m.Length]);
            edit.Scaling = new Ia3Scaling(l, rows, inverse);
            edit.Sources.Add(m.ModulePath);

            if (m.ScalesOutput && model.TryResolveTensorName(m.ModulePath, "bias") is { } biasName)
            {
                var biasInfo = model.Weights.GetInfo(biasName);
                if (biasInfo.Shape.Count != 1 || biasInfo.Shape[0] != m.Length || !biasInfo.DType.IsKernelFloat())
                    throw Mismatch(m.ModulePath, $"ia3_l has {m.Length} values but the bias it also scales, '{biasName}', is {biasInfo.DType} {Shape(biasInfo.Shape)}");
                var biasEdit = EditFor(biasName);
                biasEdit.Scaling = new Ia3Scaling(l, Rows: false, inverse);
                biasEdit.Sources.Add(m.ModulePath + " (bias)");
            }
        }

        public void AddExtra(AdapterExtraTensor e)
        {
            string? target = model.Weights.Contains(e.BaseTensorName) ? e.BaseTensorName : null;
            int dot = e.BaseTensorName.LastIndexOf('.');
            if (target is null && dot > 0)
                target = model.TryResolveTensorName(e.BaseTensorName[..dot], e.BaseTensorName[(dot + 1)..]);
            if (target is null)
                throw Mismatch(e.Name, $"it replaces '{e.BaseTensorName}', which the model in {model.Weights.SourcePath} does not hold");
            if (direction == MergeDirection.Unmerge)
            {
                Notes.Add($"{e.Name}: '{target}' keeps the adapter's values (a modules_to_save tensor replaced the base tensor; the base values are not in the adapter)");
                return;
            }
            var info = model.Weights.GetInfo(target);
            if (!info.Shape.SequenceEqual(e.Tensor.Shape.ToArray()))
                throw Mismatch(e.Name, $"it is {Shape(e.Tensor.Shape.ToArray())} but the model tensor '{target}' it replaces is {Shape(info.Shape)} in {info.FilePath}");
            if (!(info.DType.IsKernelFloat() && e.Tensor.DType.IsKernelFloat()) && info.DType != e.Tensor.DType)
                throw Mismatch(e.Name, $"it is {e.Tensor.DType} but the model tensor '{target}' it replaces is {info.DType}");
            var edit = EditFor(target);
            if (!edit.IsEmpty)
                throw Mismatch(e.Name, $"model tensor '{target}' is also changed by {string.Join(", ", edit.Sources)}");
            edit.Replacement = e.Tensor;
            edit.Sources.Add(e.Name);
        }

        private TensorEdit EditFor(string tensor)
        {
            if (!Edits.TryGetValue(tensor, out var edit))
                Edits.Add(tensor, edit = new TensorEdit(tensor));
            return edit;
        }

        private string Resolve(string modulePath, string parameter, string adapterTensor)
        {
            try
            {
                return model.ResolveTensorName(modulePath, parameter);
            }
            catch (KeyNotFoundException e)
            {
                throw Mismatch(adapterTensor, $"no model tensor for module '{modulePath}' ({e.Message})");
            }
        }

        private SafetensorsTensorInfo FloatMatrix(string tensor, string modulePath)
        {
            var info = model.Weights.GetInfo(tensor);
            if (info.Shape.Count != 2)
                throw Mismatch(modulePath, $"model tensor '{tensor}' is {Shape(info.Shape)}, not a matrix, in {info.FilePath}");
            if (!info.DType.IsKernelFloat())
                throw Mismatch(modulePath, $"model tensor '{tensor}' is {info.DType}; merging needs F32, F16 or BF16 ({info.FilePath})");
            return info;
        }

        private AdapterFormatException Mismatch(string key, string problem) => new(_adapterFile, key, problem);

        private static string Shape(IReadOnlyList<long> shape) => "[" + string.Join(", ", shape) + "]";
    }
}
