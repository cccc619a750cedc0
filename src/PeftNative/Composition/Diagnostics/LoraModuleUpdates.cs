using MathNet.Numerics.LinearAlgebra;
using PeftNative.Adapters;

namespace PeftNative.Composition.Diagnostics;

/// <summary>
/// One LoRA module across adapters as the Gram blocks of its factors: P_pq = B_p^T B_q (r_p x r_q)
/// and Q_pq = A_p A_q^T. Then &lt;s_p B_p A_p, s_q B_q A_q&gt;_F = s_p s_q trace(P_pq Q_pq^T) =
/// s_p s_q sum_ij P_pq[i,j] Q_pq[i,j], and any linear combination of the factors has its Grams
/// as the same combination of these blocks. All blocks come from two Gram matrices of the stacked
/// factors (<see cref="GramMatrix"/>): O((out + in) R^2) with R = sum r_p; the out x in update is
/// never formed. Float64 throughout.
/// </summary>
internal sealed class LoraModuleUpdates : ModuleUpdates
{
    private readonly Matrix<double> _gb;
    private readonly Matrix<double> _ga;
    private readonly int[] _offsets;

    private LoraModuleUpdates(string module, int[] adapters, double[] scalings, int[] ranks, Matrix<double> gb, Matrix<double> ga)
        : base(module, adapters)
    {
        Scalings = scalings;
        Ranks = ranks;
        _gb = gb;
        _ga = ga;
        _offsets = new int[ranks.Length];
        for (int p = 1; p < ranks.Length; p++)
            _offsets[p] = _offsets[p - 1] + ranks[p - 1];
    }

    /// <summary>s_p of each listed adapter.</summary>
    public double[] Scalings { get; }

    /// <summary>r_p of each listed adapter.</summary>
    public int[] Ranks { get; }

    /// <summary>True when every listed adapter has the same rank (the paper method's A = sum |c_i| A_i needs it).</summary>
    public bool EqualRanks => Ranks.All(r => r == Ranks[0]);

    /// <summary>B_p^T B_q (a copy).</summary>
    public Matrix<double> P(int p, int q) => _gb.SubMatrix(_offsets[p], Ranks[p], _offsets[q], Ranks[q]);

    /// <summary>A_p A_q^T (a copy).</summary>
    public Matrix<double> Q(int p, int q) => _ga.SubMatrix(_offsets[p], Ranks[p], _offsets[q], Ranks[q]);

    /// <inheritdoc />
    public override double UpdateInner(int p, int q)
    {
        double sum = 0;
        for (int i = 0; i < Ranks[p]; i++)
            for (int j = 0; j < Ranks[q]; j++)
                sum += _gb[_offsets[p] + i, _offsets[q] + j] * _ga[_offsets[p] + i, _offsets[q] + j];
        return Scalings[p] * Scalings[q] * sum;
    }

    /// <summary>&lt;A_p, A_q&gt;_F = trace(A_p A_q^T) (equal ranks only).</summary>
    public double AInner(int p, int q)
    {
        double sum = 0;
        for (int i = 0; i < Math.Min(Ranks[p], Ranks[q]); i++)
            sum += _ga[_offsets[p] + i, _offsets[q] + i];
        return sum;
    }

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
        int outF = checked((int)modules[0].OutFeatures), inF = checked((int)modules[0].InFeatures);
        int total = modules.Sum(m => m.Rank);
        // Stacked rows: the rows of every A ([r, in], already rows) and the columns of every B ([out, r]).
        var stackedA = new double[(long)total * inF];
        var stackedBT = new double[(long)total * outF];
        int row = 0;
        foreach (var m in modules)
        {
            Composition.FactorMatrices.ToDoubles(m.A).CopyTo(stackedA, (long)row * inF);
            var b = Composition.FactorMatrices.ToDoubles(m.B);
            for (int i = 0; i < outF; i++)
                for (int j = 0; j < m.Rank; j++)
                    stackedBT[(long)(row + j) * outF + i] = b[(long)i * m.Rank + j];
            row += m.Rank;
        }
        // row-major symmetric K x K read column-major is the same matrix
        var ga = Matrix<double>.Build.Dense(total, total, GramMatrix.Compute(stackedA, total, inF));
        var gb = Matrix<double>.Build.Dense(total, total, GramMatrix.Compute(stackedBT, total, outF));
        return new LoraModuleUpdates(module, adapters, modules.Select(m => m.Scaling).ToArray(), modules.Select(m => m.Rank).ToArray(), gb, ga);
    }
}
