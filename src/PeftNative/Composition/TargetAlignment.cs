using PeftNative.Adapters;

namespace PeftNative.Composition;

/// <summary>One term's LoRA module at one target: the term's index and coefficient, the adapter's name and its module.</summary>
internal readonly record struct LoraInput(int Term, double Coefficient, string Adapter, LoraModule Module);

/// <summary>One term's (IA)^3 module at one target.</summary>
internal readonly record struct Ia3Input(int Term, double Coefficient, string Adapter, Ia3Module Module);

/// <summary>
/// The terms of a composition bound to their adapters and lined up module by module, after the
/// checks every method shares: every name bound, one PEFT type, one base model, one
/// fan_in_fan_out, no tensors composition cannot combine, equal target sets (or their union when
/// asked: a module missing from an input is a zero update for LoRA and l = 1 for (IA)^3, i.e. the
/// input simply does not take part there), and equal shapes per module.
/// </summary>
internal sealed class TargetAlignment
{
    private readonly Dictionary<string, LoraInput[]> _lora;
    private readonly Dictionary<string, Ia3Input[]> _ia3;
    private readonly Dictionary<string, PeftAdapter> _byName;

    private TargetAlignment(IReadOnlyList<CompositionTerm> terms, IReadOnlyList<PeftAdapter> termAdapters, IReadOnlyList<string> names,
        Dictionary<string, PeftAdapter> byName, IReadOnlyList<string> modulePaths, Dictionary<string, LoraInput[]> lora, Dictionary<string, Ia3Input[]> ia3, IReadOnlyList<string> warnings, DType dtype)
    {
        Terms = terms;
        TermAdapters = termAdapters;
        AdapterNames = names;
        _byName = byName;
        ModulePaths = modulePaths;
        _lora = lora;
        _ia3 = ia3;
        Warnings = warnings;
        OutputDType = dtype;
    }

    /// <summary>The terms as applied.</summary>
    public IReadOnlyList<CompositionTerm> Terms { get; }

    /// <summary>The adapter of each term (same index).</summary>
    public IReadOnlyList<PeftAdapter> TermAdapters { get; }

    /// <summary>The adapter names used, each once, in order of first appearance.</summary>
    public IReadOnlyList<string> AdapterNames { get; }

    /// <summary>LoRA or (IA)^3 (all inputs share it).</summary>
    public PeftType Type => TermAdapters[0].Type;

    /// <summary>The first term's adapter: the output config derives from its config (as PEFT does).</summary>
    public PeftAdapter First => TermAdapters[0];

    /// <summary>Every target module of the result, in the order the adapters list them (first adapter first).</summary>
    public IReadOnlyList<string> ModulePaths { get; }

    /// <summary>Notes for the result (targets filled by the union).</summary>
    public IReadOnlyList<string> Warnings { get; }

    /// <summary>The dtype every input factor or vector shares, else F32.</summary>
    public DType OutputDType { get; }

    /// <summary>The adapter bound to <paramref name="name"/>.</summary>
    public PeftAdapter AdapterNamed(string name) => _byName[name];

    /// <summary>The terms that have a LoRA module at <paramref name="path"/>, in term order.</summary>
    public IReadOnlyList<LoraInput> Lora(string path) => _lora[path];

    /// <summary>The terms that have an (IA)^3 module at <paramref name="path"/>, in term order.</summary>
    public IReadOnlyList<Ia3Input> Ia3(string path) => _ia3[path];

    /// <summary>Binds and checks.</summary>
    /// <exception cref="ArgumentException">Any shared check fails; the message names the adapters and module.</exception>
    /// <exception cref="ObjectDisposedException">An adapter was disposed.</exception>
    public static TargetAlignment Build(IReadOnlyList<CompositionTerm> terms, IReadOnlyDictionary<string, PeftAdapter> adapters, bool unionTargets)
    {
        if (terms.Count == 0)
            throw new ArgumentException("the expression has no terms");
        var termAdapters = new PeftAdapter[terms.Count];
        for (int i = 0; i < terms.Count; i++)
        {
            string name = terms[i].Adapter;
            if (!adapters.TryGetValue(name, out var adapter) || adapter is null)
            {
                string known = adapters.Count == 0 ? "none were given" : "given: " + string.Join(", ", adapters.Keys.Order(StringComparer.Ordinal));
                throw new ArgumentException($"the expression names adapter '{name}', which is not among the adapters ({known})", nameof(adapters));
            }
            ObjectDisposedException.ThrowIf(adapter.IsDisposed, adapter);
            termAdapters[i] = adapter;
        }
        var names = terms.Select(t => t.Adapter).Distinct(StringComparer.Ordinal).ToList();
        var byName = names.ToDictionary(n => n, n => adapters[n], StringComparer.Ordinal);

        CheckAdapters(names, byName);
        var (paths, warnings) = AlignTargets(names, byName, unionTargets);

        var lora = new Dictionary<string, LoraInput[]>(StringComparer.Ordinal);
        var ia3 = new Dictionary<string, Ia3Input[]>(StringComparer.Ordinal);
        var dtypes = new HashSet<DType>();
        foreach (string path in paths)
        {
            if (byName[names[0]].Type == PeftType.Lora)
            {
                var inputs = new List<LoraInput>();
                for (int i = 0; i < terms.Count; i++)
                {
                    if (termAdapters[i].LoraModules.TryGetValue(path, out var m))
                    {
                        inputs.Add(new LoraInput(i, terms[i].Coefficient, terms[i].Adapter, m));
                        dtypes.Add(m.A.DType);
                        dtypes.Add(m.B.DType);
                    }
                }
                CheckLoraShapes(path, inputs);
                lora[path] = [.. inputs];
            }
            else
            {
                var inputs = new List<Ia3Input>();
                for (int i = 0; i < terms.Count; i++)
                {
                    if (termAdapters[i].Ia3Modules.TryGetValue(path, out var m))
                    {
                        inputs.Add(new Ia3Input(i, terms[i].Coefficient, terms[i].Adapter, m));
                        dtypes.Add(m.Vector.DType);
                    }
                }
                CheckIa3Shapes(path, inputs);
                ia3[path] = [.. inputs];
            }
        }
        DType dtype = dtypes.Count == 1 ? dtypes.First() : DType.F32;
        return new TargetAlignment(terms, termAdapters, names, byName, paths, lora, ia3, warnings, dtype);
    }

    private static void CheckAdapters(List<string> names, Dictionary<string, PeftAdapter> byName)
    {
        string first = names[0];
        var a0 = byName[first];
        var c0 = a0.Config;
        foreach (string name in names)
        {
            var a = byName[name];
            var c = a.Config;
            if (a.Type != a0.Type)
                throw new ArgumentException($"adapter '{first}' is {TypeName(a0.Type)} but '{name}' is {TypeName(a.Type)}: LoRA and (IA)^3 adapters cannot be composed together");
            if (c0.BaseModelNameOrPath is { } b0 && c.BaseModelNameOrPath is { } b && !string.Equals(b0, b, StringComparison.Ordinal))
                throw new ArgumentException($"adapter '{first}' was trained on base model '{b0}' but '{name}' on '{b}'; adapters of different base models cannot be composed");
            if (c.FanInFanOut != c0.FanInFanOut)
                throw new ArgumentException($"adapter '{first}' has fan_in_fan_out={Lower(c0.FanInFanOut)} but '{name}' has fan_in_fan_out={Lower(c.FanInFanOut)}; the targets' weight layouts disagree");
            if (a.ExtraTensors.Count > 0)
                throw new ArgumentException($"adapter '{name}' carries tensors besides its {TypeName(a.Type)} modules ({string.Join(", ", a.ExtraTensors.Keys.Take(3))}" +
                    $"{(a.ExtraTensors.Count > 3 ? $" and {a.ExtraTensors.Count - 3} more" : "")}: modules_to_save copies, biases or embedding layers), which composition cannot combine");
            if (a.LoraModules.Values.FirstOrDefault(m => m.BBias is not null) is { } biased)
                throw new ArgumentException($"adapter '{name}' has a lora_B bias (lora_bias) on {biased.ModulePath}; composing LoRA biases is not supported");
            if (a.ModuleCount == 0)
                throw new ArgumentException($"adapter '{name}' has no modules");
        }
    }

    private static (List<string> Paths, List<string> Warnings) AlignTargets(List<string> names, Dictionary<string, PeftAdapter> byName, bool unionTargets)
    {
        var paths = new List<string>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var sets = new Dictionary<string, HashSet<string>>(StringComparer.Ordinal);
        foreach (string name in names)
        {
            var a = byName[name];
            var own = a.Type == PeftType.Lora ? a.LoraModules.Keys : a.Ia3Modules.Keys;
            sets[name] = new HashSet<string>(own, StringComparer.Ordinal);
            foreach (string p in own)
            {
                if (seen.Add(p))
                    paths.Add(p);
            }
        }
        var warnings = new List<string>();
        foreach (string name in names)
        {
            var missing = paths.Where(p => !sets[name].Contains(p)).ToList();
            if (missing.Count == 0)
                continue;
            string example = $"{missing[0]}{(missing.Count > 1 ? $" and {missing.Count - 1} more" : "")}";
            if (!unionTargets)
            {
                string owner = names.First(n => sets[n].Contains(missing[0]));
                throw new ArgumentException(
                    $"adapters '{owner}' and '{name}' target different modules: '{name}' lacks {example}; " +
                    "compose over the union of the targets (option UnionTargets) to treat a missing module as a zero update (LoRA) or l = 1 ((IA)^3)");
            }
            string fill = byName[name].Type == PeftType.Lora ? "a zero update (it takes no part there)" : "l = 1 (it takes no part there)";
            warnings.Add($"union of targets: adapter '{name}' lacks {missing.Count} of {paths.Count} modules ({example}); each counts as {fill}");
        }
        return (paths, warnings);
    }

    private static void CheckLoraShapes(string path, List<LoraInput> inputs)
    {
        var x = inputs[0];
        foreach (var y in inputs)
        {
            if (y.Module.IsEmbedding != x.Module.IsEmbedding)
                throw new ArgumentException($"module {path} is an embedding LoRA in '{(x.Module.IsEmbedding ? x.Adapter : y.Adapter)}' but a linear LoRA in '{(x.Module.IsEmbedding ? y.Adapter : x.Adapter)}'");
            if (y.Module.InFeatures != x.Module.InFeatures || y.Module.OutFeatures != x.Module.OutFeatures)
                throw new ArgumentException($"module {path} maps {x.Module.InFeatures} -> {x.Module.OutFeatures} features in '{x.Adapter}' but {y.Module.InFeatures} -> {y.Module.OutFeatures} in '{y.Adapter}'; the adapters do not belong to the same base model");
        }
    }

    private static void CheckIa3Shapes(string path, List<Ia3Input> inputs)
    {
        var x = inputs[0];
        foreach (var y in inputs)
        {
            if (y.Module.IsFeedForward != x.Module.IsFeedForward)
                throw new ArgumentException($"module {path} is a feed-forward (IA)^3 module (input scaling) in '{(x.Module.IsFeedForward ? x.Adapter : y.Adapter)}' but scales outputs in '{(x.Module.IsFeedForward ? y.Adapter : x.Adapter)}'");
            if (!y.Module.Vector.Shape.SequenceEqual(x.Module.Vector.Shape))
                throw new ArgumentException($"module {path} has an ia3_l of shape {x.Module.Vector.ShapeText} in '{x.Adapter}' but {y.Module.Vector.ShapeText} in '{y.Adapter}'");
        }
    }

    private static string TypeName(PeftType type) => type == PeftType.Lora ? "LoRA" : "(IA)^3";

    private static string Lower(bool value) => value ? "true" : "false";
}
