using PeftNative.Adapters;
using PeftNative.Backends;

namespace PeftNative.Models.Transformer;

/// <summary>
/// Attaches adapters to a loaded model, either merged into private f32 copies of the touched
/// weights (the checkpoint views stay untouched) or at run time on the projections. Per module,
/// both routes apply every LoRA update first and then the (IA)^3 scalings in order, so they give
/// the same map: <c>W' = diag(l_out) (W + Σ w·s·B A) diag(l_in)</c>, <c>b' = l_out ∘ (b + Σ w·s·b_B)</c>,
/// with each (IA)^3 vector weighted as <c>1 + w (l − 1)</c>.
/// Modules are matched to the model by the checkpoint tensor their path resolves to
/// (<see cref="HuggingFaceModelDirectory.TryResolveTensorName"/>), so hub-style GPT-2 keys work.
/// </summary>
internal static class AdapterBinder
{
    /// <summary>Merges the adapters into private f32 copies of the weights they touch.</summary>
    public static void Merge(DecoderModel model, IReadOnlyList<WeightedAdapter> adapters, IKernelBackend backend)
    {
        var plan = Plan(model, adapters);
        foreach (var (target, lora) in plan.Lora)
        {
            var updates = lora.Select(t => new LowRankUpdate(t.Module.B, t.Module.A, t.Scale)).ToArray();
            if (target.Projection is { } p)
            {
                p.Weight = PrivateCopy(model, p.Weight, backend);
                backend.LowRankMerge(p.Weight, updates, fanInFanOut: p.InputMajor);
                foreach (var (module, scale) in lora)
                {
                    if (module.BBias is { } bb)
                        p.Bias = AddScaled(p.Bias, TensorRows.ToFloats(bb), scale, p.Out);
                }
            }
            else
            {
                // Embedding W is (vocab, hidden) = (in, out) of the update: PEFT's transposed delta.
                var e = model.Embedding;
                var copy = PrivateCopy(model, e.Weight, backend);
                backend.LowRankMerge(copy, updates, fanInFanOut: true);
                e.Weight = copy;
                if (model.Spec.TieWordEmbeddings)
                    model.Head.Weight = copy; // tied: the head is the same parameter, as in a merged PEFT model
            }
        }
        foreach (var (p, module, vector) in plan.Ia3)
        {
            p.Weight = PrivateCopy(model, p.Weight, backend);
            using var l = Tensor.Allocate(DType.F32, vector.Length);
            vector.CopyTo(l.AsSpan<float>());
            bool scalesRows = module.ScalesOutput != p.InputMajor; // output features are rows of (out, in), columns of Conv1D (in, out)
            if (scalesRows)
                backend.ScaleRows(p.Weight, l, inverse: false);
            else
                backend.ScaleColumns(p.Weight, l, inverse: false);
            if (module.ScalesOutput && p.Bias is { } bias)
            {
                var scaled = (float[])bias.Clone();
                for (int i = 0; i < scaled.Length; i++)
                    scaled[i] *= vector[i];
                p.Bias = scaled;
            }
        }
    }

    /// <summary>Attaches the adapters to be applied on every forward step.</summary>
    public static void AttachRuntime(DecoderModel model, IReadOnlyList<WeightedAdapter> adapters)
    {
        var plan = Plan(model, adapters);
        foreach (var (target, lora) in plan.Lora)
        {
            foreach (var (module, scale) in lora)
            {
                if (target.Projection is { } p)
                    p.AddLora(new RuntimeLoraTerm(module.A, module.B, scale, module.BBias is { } bb ? TensorRows.ToFloats(bb) : null));
                else
                    model.Embedding.AddLora(module.A, module.B, scale);
            }
        }
        foreach (var (p, module, vector) in plan.Ia3)
        {
            if (module.ScalesOutput)
                p.MultiplyOutputScale(vector);
            else
                p.MultiplyInputScale(vector);
        }
    }

    private sealed record Target(LinearProjection? Projection);

    private sealed record AdapterPlan(
        List<(Target Target, List<(LoraModule Module, float Scale)> Terms)> Lora,
        List<(LinearProjection Projection, Ia3Module Module, float[] Vector)> Ia3);

    // Validates every adapter against the model before anything is changed.
    private static AdapterPlan Plan(DecoderModel model, IReadOnlyList<WeightedAdapter> adapters)
    {
        ArgumentNullException.ThrowIfNull(adapters);
        var projections = model.Projections;
        var lora = new List<(Target, List<(LoraModule, float)>)>();
        var byTensor = new Dictionary<string, List<(LoraModule, float)>>(StringComparer.Ordinal);
        var ia3 = new List<(LinearProjection, Ia3Module, float[])>();
        foreach (var (adapter, weight) in adapters)
        {
            ArgumentNullException.ThrowIfNull(adapter);
            ObjectDisposedException.ThrowIf(adapter.IsDisposed, adapter);
            string file = adapter.WeightsPath ?? adapter.DirectoryPath ?? "adapter";
            if (!float.IsFinite(weight))
                throw new ArgumentException($"{file}: adapter weight {weight} is not finite");
            if (adapter.ExtraTensors.Count > 0)
            {
                var extra = adapter.ExtraTensors.Values.First();
                throw new AdapterFormatException(file, extra.Name,
                    $"is a {extra.Kind} tensor (modules_to_save / trained bias / saved embedding); the forward pass applies only LoRA and (IA)^3 modules");
            }
            foreach (var module in adapter.LoraModules.Values)
            {
                string name = ResolveTensor(model, file, module.ModulePath);
                LinearProjection? p = null;
                if (module.IsEmbedding)
                {
                    if (name != model.Embedding.TensorName)
                        throw new AdapterFormatException(file, module.ATensorName, $"is an embedding LoRA on {name}, which is not the model's token embedding {model.Embedding.TensorName}");
                    if (module.InFeatures != model.Embedding.VocabSize || module.OutFeatures != model.Embedding.Hidden)
                        throw new AdapterFormatException(file, module.ATensorName, $"embedding LoRA is {module.InFeatures} x {module.OutFeatures}, the embedding {name} is {model.Embedding.VocabSize} x {model.Embedding.Hidden}");
                }
                else
                {
                    p = Projection(projections, model, file, module.ModulePath, name, module.ATensorName);
                    if (module.InFeatures != p.In || module.OutFeatures != p.Out)
                        throw new AdapterFormatException(file, module.ATensorName,
                            $"LoRA update is [{module.OutFeatures}, {module.InFeatures}] (out, in), but {name} maps {p.In} inputs to {p.Out} outputs");
                }
                if (!byTensor.TryGetValue(name, out var terms))
                {
                    terms = [];
                    byTensor[name] = terms;
                    lora.Add((new Target(p), terms));
                }
                terms.Add((module, (float)(weight * module.Scaling)));
            }
            foreach (var module in adapter.Ia3Modules.Values)
            {
                string name = ResolveTensor(model, file, module.ModulePath);
                var p = Projection(projections, model, file, module.ModulePath, name, module.TensorName);
                long expected = module.ScalesOutput ? p.Out : p.In;
                if (module.Length != expected)
                    throw new AdapterFormatException(file, module.TensorName,
                        $"has {module.Length} values but {name} has {expected} {(module.ScalesOutput ? "output" : "input")} features");
                var l = TensorRows.ToFloats(module.Vector);
                for (int i = 0; i < l.Length; i++)
                    l[i] = 1f + weight * (l[i] - 1f);
                ia3.Add((p, module, l));
            }
        }
        return new AdapterPlan(lora, ia3);
    }

    private static string ResolveTensor(DecoderModel model, string file, string modulePath) =>
        model.Directory.TryResolveTensorName(modulePath, "weight")
        ?? throw new AdapterFormatException(file, modulePath,
            $"targets a module the model in {model.Directory.DirectoryPath} does not have (no weight tensor {modulePath}.weight, with or without a transformer./model. prefix)");

    private static LinearProjection Projection(IReadOnlyDictionary<string, LinearProjection> projections, DecoderModel model,
        string file, string modulePath, string tensorName, string adapterTensor) =>
        projections.TryGetValue(tensorName, out var p)
            ? p
            : throw new AdapterFormatException(file, adapterTensor,
                $"targets {modulePath} ({tensorName}), which is not a projection of the {model.ModelType} forward pass" +
                (tensorName == model.Embedding.TensorName ? " (a tied output head is the embedding: target the embedding with embedding LoRA)" : ""));

    private static Tensor PrivateCopy(DecoderModel model, Tensor weight, IKernelBackend backend)
    {
        if (model.IsOwned(weight))
            return weight;
        var copy = Tensor.Allocate(DType.F32, weight.Shape.ToArray());
        backend.Convert(weight, copy);
        model.Own(copy);
        return copy;
    }

    private static float[] AddScaled(float[]? bias, float[] delta, float scale, int length)
    {
        var result = bias is null ? new float[length] : (float[])bias.Clone();
        for (int i = 0; i < length; i++)
            result[i] += scale * delta[i];
        return result;
    }
}
