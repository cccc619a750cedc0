using MathNet.Numerics.LinearAlgebra;
using PeftNative.Adapters;

namespace PeftNative.Composition.Diagnostics;

/// <summary>
/// One LoRA module across adapters as the Gram blocks of its factors: P_pq = B_p^T B_q (r_p x r_q)
/// and Q_pq = A_p A_q^T. Then &lt;s_p B_p A_p, s_q B_q A_q&gt;_F = s_p s_q trace(P_pq Q_pq^T) =
/// s_p s_q sum_ij P_pq[i,j] Q_pq[i,j], and any linear combination of the factors has its Grams
/// as the same combination of these blocks. Cost O((out + in) r_p r_q) per pair; the out x in
/// update is never formed. Float64 throughout.
/// </summary>
internal sealed class LoraModuleUpdates : ModuleUpdates
{
    private readonly Matrix<double>[,] _p;
    private readonly Matrix<double>[,] _q;

    private LoraModuleUpdates(string module, int[] adapters, double[] scalings, int[] ranks, Matrix<double>[,] p, Matrix<double>[,] q)
        : base(module, adapters)
    {
        Scalings = scalings;
        Ranks = ranks;
        _p = p;
        _q = q;
    }

    /// <summary>s_p of each listed adapter.</summary>
    public double[] Scalings { get; }

    /// <summary>r_p of each listed adapter.</summary>
    public int[] Ranks { get; }

    /// <summary>True when every listed adapter has the same rank (the paper method's A = sum |c_i| A_i needs it).</summary>
    public bool EqualRanks => Ranks.All(r => r == Ranks[0]);

    /// <summary>B_p^T B_q.</summary>
    public Matrix<double> P(int p, int q) => _p[p, q];

    /// <summary>A_p A_q^T.</summary>
    public Matrix<double> Q(int p, int q) => _q[p, q];

    /// <inheritdoc />
    public override double UpdateInner(int p, int q) => Scalings[p] * Scalings[q] * FactorMatrices.Inner(_p[p, q], _q[p, q]);

    /// <summary>&lt;A_p, A_q&gt;_F = trace(A_p A_q^T) (equal ranks only).</summary>
    public double AInner(int p, int q) => _q[p, q].Trace();

    /// <summary>Computes the Gram blocks of the listed modules (one per adapter, same update shape).</summary>
    /// <exception cref="ArgumentException">The modules' update shapes differ.</exception>
    public static LoraModuleUpdates Compute(string module, int[] adapters, IReadOnlyList<string> names, IReadOnlyList<LoraModule> modules)
    {
        int k = modules.Count;
        for (int i = 1; i < k; i++)
        {
            if (modules[i].OutFeatures != modules[0].OutFeatures || modules[i].InFeatures != modules[0].InFeatures)
                throw new ArgumentException(
                    $"module {module}: adapter '{names[adapters[0]]}' updates a {modules[0].OutFeatures}x{modules[0].InFeatures} weight but '{names[adapters[i]]}' a {modules[i].OutFeatures}x{modules[i].InFeatures} one");
        }
        // [r, in] row-major read column-major is A^T (in x r); [out, r] is B^T (r x out).
        var at = modules.Select(m => FactorMatrices.Transposed(m.A)).ToArray();
        var bt = modules.Select(m => FactorMatrices.Transposed(m.B)).ToArray();
        var p = new Matrix<double>[k, k];
        var q = new Matrix<double>[k, k];
        for (int i = 0; i < k; i++)
        {
            for (int j = i; j < k; j++)
            {
                p[i, j] = bt[i].TransposeAndMultiply(bt[j]);
                q[i, j] = at[i].TransposeThisAndMultiply(at[j]);
                if (j != i)
                {
                    p[j, i] = p[i, j].Transpose();
                    q[j, i] = q[i, j].Transpose();
                }
            }
        }
        return new LoraModuleUpdates(module, adapters, modules.Select(m => m.Scaling).ToArray(), modules.Select(m => m.Rank).ToArray(), p, q);
    }
}
