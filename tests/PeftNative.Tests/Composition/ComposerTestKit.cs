using MathNet.Numerics.LinearAlgebra;
using PeftNative.Adapters;
using PeftNative.Composition;

namespace PeftNative.Tests.Composition;

/// <summary>One target of a test adapter: module path and the update's in/out features.</summary>
public readonly record struct TestTarget(string Path, int In, int Out);

/// <summary>
/// Random small adapters built in memory for the composer tests, and float64 references: the
/// dense update s B A of a module, written here independently of the library's own helpers.
/// </summary>
internal static class ComposerTestKit
{
    /// <summary>Odd shapes (and a 1-wide one) so no path hides behind a vector width.</summary>
    public static readonly TestTarget[] OddTargets =
    [
        new("model.layers.0.self_attn.q_proj", 13, 7),
        new("model.layers.0.self_attn.v_proj", 5, 17),
        new("model.layers.1.mlp.down_proj", 29, 1),
    ];

    public const string BaseModel = "peftnative/test-base";

    /// <summary>A LoRA adapter with random factors (magnitudes in [0.05, 1]).</summary>
    public static PeftAdapter Lora(Random rng, IEnumerable<TestTarget> targets, int r, double alpha, DType dtype = DType.F32,
        bool fanInFanOut = false, bool rsLora = false, string? baseModel = BaseModel, IReadOnlyDictionary<string, int>? rankPattern = null,
        IReadOnlyDictionary<string, double>? alphaPattern = null)
    {
        var list = targets.ToList();
        var config = AdapterConfig.CreateLora(r, alpha, ModuleSelector.FromNames(list.Select(t => t.Path.Split('.')[^1]).Distinct()),
            fanInFanOut, rsLora, baseModel);
        if (rankPattern is not null)
            config.RankPattern = rankPattern;
        if (alphaPattern is not null)
            config.AlphaPattern = alphaPattern;
        var modules = list.Select(t =>
        {
            int rank = config.RankFor(t.Path);
            return LoraModule.FromConfig(config, t.Path,
                RandomTensors.Create(rng, dtype, [rank, t.In]),
                RandomTensors.Create(rng, dtype, [t.Out, rank]));
        }).ToList();
        return PeftAdapter.Create(config, modules);
    }

    /// <summary>An (IA)^3 adapter; feed-forward targets are the paths ending in "down_proj". Values in [lo, hi] (positive).</summary>
    public static PeftAdapter Ia3(Random rng, IEnumerable<TestTarget> targets, double lo = 0.5, double hi = 2.0, DType dtype = DType.F32,
        string? baseModel = BaseModel)
    {
        var list = targets.ToList();
        var names = list.Select(t => t.Path.Split('.')[^1]).Distinct().ToList();
        var ff = names.Where(n => n == "down_proj").ToList();
        var config = AdapterConfig.CreateIa3(ModuleSelector.FromNames(names), ff.Count > 0 ? ModuleSelector.FromNames(ff) : null, baseModelNameOrPath: baseModel);
        var modules = list.Select(t =>
        {
            bool isFf = config.IsFeedForward(t.Path);
            var v = Tensor.Allocate(dtype, isFf ? [1, t.In] : [t.Out, 1]);
            for (long i = 0; i < v.ElementCount; i++)
                RandomTensors.Set(v, i, lo + ((hi - lo) * rng.NextDouble()));
            return Ia3Module.FromConfig(config, t.Path, v);
        }).ToList();
        return PeftAdapter.Create(config, ia3Modules: modules);
    }

    /// <summary>The adapter's modules re-created (same tensors copied) under another config — e.g. a second name for the same weights.</summary>
    public static PeftAdapter CopyOf(PeftAdapter source)
    {
        var config = source.Config;
        if (source.Type == PeftType.Lora)
            return PeftAdapter.Create(config, source.LoraModules.Values.Select(m =>
                LoraModule.FromConfig(config, m.ModulePath, RandomTensors.Clone(m.A), RandomTensors.Clone(m.B), m.IsEmbedding)).ToList());
        return PeftAdapter.Create(config, ia3Modules: source.Ia3Modules.Values.Select(m =>
            Ia3Module.FromConfig(config, m.ModulePath, RandomTensors.Clone(m.Vector))).ToList());
    }

    /// <summary>A tensor as a float64 matrix (rows = first dimension).</summary>
    public static Matrix<double> Matrix(Tensor t, double scale = 1.0)
    {
        var d = RandomTensors.ToDoubles(t);
        int rows = (int)t.Shape[0], cols = (int)t.Shape[1];
        return Matrix<double>.Build.Dense(rows, cols, (i, j) => scale * d[(i * cols) + j]);
    }

    /// <summary>The module's update s * B @ A in float64 (out x in, the factors' own orientation).</summary>
    public static Matrix<double> Dense(LoraModule m) => Matrix(m.B, m.Scaling) * Matrix(m.A);

    /// <summary>The update of <paramref name="path"/> in a composed adapter (zero matrix when absent).</summary>
    public static Matrix<double> Dense(PeftAdapter adapter, string path, int outF, int inF) =>
        adapter.LoraModules.TryGetValue(path, out var m) ? Dense(m) : Matrix<double>.Build.Dense(outF, inF);

    /// <summary>||got - expected||_F / max(||expected||_F, floor).</summary>
    public static double RelativeError(Matrix<double> got, Matrix<double> expected, double floor = 1e-30) =>
        (got - expected).FrobeniusNorm() / Math.Max(expected.FrobeniusNorm(), floor);

    /// <summary>Named adapters for <see cref="AdapterComposer.Compose"/>.</summary>
    public static Dictionary<string, PeftAdapter> Named(params (string Name, PeftAdapter Adapter)[] adapters) =>
        adapters.ToDictionary(a => a.Name, a => a.Adapter, StringComparer.Ordinal);

    /// <summary>Composes text with options.</summary>
    public static CompositionResult Compose(string expression, Dictionary<string, PeftAdapter> adapters, CompositionOptions? options = null) =>
        AdapterComposer.Compose(ModuleExpression.Parse(expression), adapters, options);

    /// <summary>Asserts two tensors have identical dtype, shape and bytes.</summary>
    public static void AssertBitEqual(Tensor got, Tensor expected, string context)
    {
        Assert.That((got.DType, got.ShapeText), Is.EqualTo((expected.DType, expected.ShapeText)), context);
        Assert.That(got.AsBytes().SequenceEqual(expected.AsBytes()), Is.True, $"{context}: bytes differ");
    }

    /// <summary>Disposes every adapter.</summary>
    public static void DisposeAll(IEnumerable<PeftAdapter> adapters)
    {
        foreach (var a in adapters)
            a.Dispose();
    }
}
