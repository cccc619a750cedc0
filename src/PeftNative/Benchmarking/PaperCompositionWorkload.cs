using PeftNative.Adapters;
using PeftNative.Backends;
using PeftNative.Composition;

namespace PeftNative.Benchmarking;

/// <summary>
/// The paper-method workload of <see cref="CompositionProbe"/> and the BenchmarkDotNet suite: k rank-r
/// LoRA adapters of a LLaMA-shaped model (per layer q/k/v/o hidden x hidden, gate/up
/// intermediate x hidden, down hidden x intermediate), their factors allocated and touched once, with
/// output factors for the affine routes and adapters viewing the same memory for the composer.
/// Coefficients alternate in sign, +-1/k (so no normalisation applies).
/// </summary>
internal sealed class PaperCompositionWorkload : IDisposable
{
    private static readonly string[] AttentionTargets = ["q_proj", "k_proj", "v_proj", "o_proj"];

    private readonly List<Tensor> _owned = [];
    private readonly (Tensor A, Tensor B)[][] _inputs;
    private readonly (Tensor A, Tensor B)[] _outputs;
    private Dictionary<string, PeftAdapter>? _adapters;

    public PaperCompositionWorkload(int layers, int hidden, int intermediate, int adapters, int rank, DType dtype)
    {
        Targets = TargetsOf(layers, hidden, intermediate);
        AdapterCount = adapters;
        Rank = rank;
        DType = dtype;
        Weights = Enumerable.Range(0, adapters).Select(i => (float)((i % 2 == 0 ? 1.0 : -1.0) / adapters)).ToArray();
        AbsoluteWeights = Weights.Select(Math.Abs).ToArray();
        _inputs = new (Tensor, Tensor)[Targets.Count][];
        _outputs = new (Tensor, Tensor)[Targets.Count];
        try
        {
            for (int m = 0; m < Targets.Count; m++)
            {
                var (_, outF, inF) = Targets[m];
                _inputs[m] = new (Tensor, Tensor)[adapters];
                for (int i = 0; i < adapters; i++)
                    _inputs[m][i] = (New(i, rank, inF), New(i + adapters, outF, rank));
                _outputs[m] = (New(0, rank, inF), New(0, outF, rank));
            }
        }
        catch
        {
            Dispose();
            throw;
        }
        Bytes = BytesOf(layers, hidden, intermediate, adapters, rank, dtype);
    }

    /// <summary>(path, out, in) of every target, seven per layer.</summary>
    public IReadOnlyList<(string Path, int Out, int In)> Targets { get; }

    public int AdapterCount { get; }

    public int Rank { get; }

    public DType DType { get; }

    /// <summary>c_i (the B weights).</summary>
    public float[] Weights { get; }

    /// <summary>|c_i| (the A weights).</summary>
    public float[] AbsoluteWeights { get; }

    /// <summary>Input factors read once + output factors written once.</summary>
    public long Bytes { get; }

    /// <summary>The byte count without allocating anything.</summary>
    public static long BytesOf(int layers, int hidden, int intermediate, int adapters, int rank, DType dtype) =>
        TargetsOf(layers, hidden, intermediate).Sum(t => (long)rank * (t.In + t.Out)) * (adapters + 1) * dtype.SizeOf();

    public static List<(string Path, int Out, int In)> TargetsOf(int layers, int hidden, int intermediate)
    {
        var list = new List<(string, int, int)>();
        for (int layer = 0; layer < layers; layer++)
        {
            foreach (string t in AttentionTargets)
                list.Add(($"model.layers.{layer}.self_attn.{t}", hidden, hidden));
            list.Add(($"model.layers.{layer}.mlp.gate_proj", intermediate, hidden));
            list.Add(($"model.layers.{layer}.mlp.up_proj", intermediate, hidden));
            list.Add(($"model.layers.{layer}.mlp.down_proj", hidden, intermediate));
        }
        return list;
    }

    /// <summary>The paper method's kernel calls (<see cref="IKernelBackend.AffineReportingNonFinite"/>), one module after the other: A' = sum |c_i| A_i, B' = sum c_i B_i.</summary>
    public void Affine(IKernelBackend backend)
    {
        var a = new Tensor[AdapterCount];
        var b = new Tensor[AdapterCount];
        for (int m = 0; m < Targets.Count; m++)
            AffineModule(backend, m, a, b);
    }

    /// <summary>The same calls, modules spread over <paramref name="threads"/> threads (give a single-threaded backend).</summary>
    public void AffineParallelModules(IKernelBackend backend, int threads) =>
        Parallel.For(0, Targets.Count, new ParallelOptions { MaxDegreeOfParallelism = threads },
            () => (new Tensor[AdapterCount], new Tensor[AdapterCount]),
            (m, _, buffers) =>
            {
                AffineModule(backend, m, buffers.Item1, buffers.Item2);
                return buffers;
            },
            _ => { });

    /// <summary>AdapterComposer.Compose with the paper method over adapters viewing the input factors.</summary>
    public CompositionResult Compose(IKernelBackend backend, CancellationToken cancellationToken = default)
    {
        var adapters = Adapters();
        var expression = Enumerable.Range(0, AdapterCount).Select(i => Weights[i] * ModuleExpression.Adapter($"a{i}")).Aggregate((x, y) => x + y);
        var options = new CompositionOptions { Method = CompositionMethod.Paper, Backend = backend, RawWeights = true };
        return AdapterComposer.Compose(expression, adapters, options, cancellationToken: cancellationToken);
    }

    public void Dispose()
    {
        foreach (var a in _adapters?.Values ?? Enumerable.Empty<PeftAdapter>())
            a.Dispose();
        _adapters = null;
        foreach (var t in _owned)
            t.Dispose();
        _owned.Clear();
    }

    private void AffineModule(IKernelBackend backend, int m, Tensor[] a, Tensor[] b)
    {
        for (int i = 0; i < AdapterCount; i++)
            (a[i], b[i]) = _inputs[m][i];
        // the calls the paper method makes: checked for NaN/Inf in the kernel, written past the caches
        bool nonFinite = backend.AffineReportingNonFinite(a, AbsoluteWeights, 0f, _outputs[m].A);
        nonFinite |= backend.AffineReportingNonFinite(b, Weights, 0f, _outputs[m].B);
        if (nonFinite)
            throw new InvalidOperationException("the synthetic factors composed to a non-finite value");
    }

    private Dictionary<string, PeftAdapter> Adapters()
    {
        if (_adapters is not null)
            return _adapters;
        var config = AdapterConfig.CreateLora(Rank, Rank, ModuleSelector.FromNames([.. AttentionTargets, "gate_proj", "up_proj", "down_proj"]), baseModelNameOrPath: "synthetic");
        var adapters = new Dictionary<string, PeftAdapter>(StringComparer.Ordinal);
        for (int i = 0; i < AdapterCount; i++)
        {
            // views: the adapter disposes them with itself, which leaves the memory alone
            adapters[$"a{i}"] = PeftAdapter.Create(config, Targets.Select((t, m) => LoraModule.FromConfig(config, t.Path,
                Tensor.FromPointer(_inputs[m][i].A.Pointer, DType, _inputs[m][i].A.Shape.ToArray()),
                Tensor.FromPointer(_inputs[m][i].B.Pointer, DType, _inputs[m][i].B.Shape.ToArray()))));
        }
        return _adapters = adapters;
    }

    /// <summary>A tensor of finite, non-constant values (a cheap pattern per seed; the values do not matter to the timing).</summary>
    private Tensor New(int seed, long rows, long cols)
    {
        var t = Tensor.Allocate(DType, rows, cols);
        _owned.Add(t);
        switch (DType)
        {
            case DType.F32:
                var f = t.AsSpan<float>();
                for (int i = 0; i < f.Length; i++)
                    f[i] = Value(seed, i);
                break;
            case DType.F16:
                var h = t.AsSpan<Half>();
                for (int i = 0; i < h.Length; i++)
                    h[i] = (Half)Value(seed, i);
                break;
            default:
                var b = t.AsSpan<BFloat16>();
                for (int i = 0; i < b.Length; i++)
                    b[i] = BFloat16.FromSingle(Value(seed, i));
                break;
        }
        return t;
    }

    private static float Value(int seed, int i) => (((uint)i * 2654435761u + (uint)seed * 40503u) >> 16) / 65536f - 0.5f;
}
