using PeftNative.Adapters;
using PeftNative.Backends;

namespace PeftNative.Composition;

/// <summary>
/// (IA)^3 arithmetic, linear in the delta l - 1 (the paper's rule, b.8 of the merge-methods notes):
/// l = 1 + sum_i c_i (l_i - 1), computed as one <see cref="IKernelBackend.Affine"/> pass with
/// weights c_i and constant 1 - sum_i c_i. So -m gives 2 - l, -0.6*m gives 1.6 - 0.6 l, and
/// weights summing to 1 give sum_i c_i l_i. A module missing from an input counts as l = 1 there
/// (that input takes no part), where PEFT's add_weighted_adapter would give sum_{i != j} w_i l_i and
/// shrink the activations. The (IA)^3 update diag(l) W - W is linear in l - 1, so this is also the
/// exact sum of the updates: it serves the paper, exact and linear methods alike (paper after its
/// normalisation, the others with the weights as written).
/// </summary>
internal sealed class PaperIa3Composer(IKernelBackend backend, DType outputDType, bool allowNonFinite) : IDisposable
{
    private readonly List<Ia3Module> _modules = [];
    private bool _handedOver;

    /// <summary>Composes the vector at <paramref name="path"/>.</summary>
    /// <exception cref="InvalidDataException">A non-finite result that is not allowed.</exception>
    public void ComposeModule(string path, IReadOnlyList<Ia3Input> inputs)
    {
        int k = inputs.Count;
        var vectors = new Tensor[k];
        var weights = new float[k];
        double sum = 0;
        for (int i = 0; i < k; i++)
        {
            vectors[i] = inputs[i].Module.Vector;
            weights[i] = (float)inputs[i].Coefficient;
            sum += inputs[i].Coefficient;
        }
        var first = inputs[0].Module;
        var l = UninitializedTensor.Allocate(outputDType, first.Vector.Shape.ToArray());
        try
        {
            AffineSum.Run(backend, vectors, weights, (float)(1.0 - sum), l);
            NonFiniteCheck.Require(l, path, "ia3_l", allowNonFinite);
        }
        catch
        {
            l.Dispose();
            throw;
        }
        _modules.Add(new Ia3Module(path, l, first.IsFeedForward, first.FanInFanOut));
    }

    /// <summary>The adapter (config from <see cref="OutputConfig.Ia3"/>); owns the vectors from now on.</summary>
    public PeftAdapter ToAdapter(TargetAlignment inputs)
    {
        var config = OutputConfig.Ia3(inputs, _modules.Select(m => (m.ModulePath, m.IsFeedForward)).ToList());
        var adapter = PeftAdapter.Create(config, ia3Modules: _modules.Select(m => Ia3Module.FromConfig(config, m.ModulePath, m.Vector)));
        _handedOver = true;
        return adapter;
    }

    /// <summary>Frees the vectors unless an adapter owns them.</summary>
    public void Dispose()
    {
        if (_handedOver)
            return;
        foreach (var m in _modules)
            m.Vector.Dispose();
        _modules.Clear();
    }
}
