using PeftNative.Adapters;

namespace PeftNative.Composition.Diagnostics;

/// <summary>
/// Norms and cosine similarities of adapters' updates, computed from the factors without forming
/// any out x in update: for LoRA, ||s B A||_F^2 = s^2 trace((B^T B)(A A^T)) in O((out + in) r^2) and
/// &lt;s_1 B_1 A_1, s_2 B_2 A_2&gt;_F = s_1 s_2 trace((B_1^T B_2)(A_2 A_1^T)) in O((out + in) r_1 r_2);
/// for (IA)^3, plain dot products of the deltas l - 1. A module an adapter lacks is a zero update.
/// Float64 accumulation whatever the tensors' dtype.
/// </summary>
public static class AdapterSimilarity
{
    /// <summary>Compares the adapters (in the dictionary's enumeration order).</summary>
    /// <exception cref="ArgumentException">No adapters, LoRA mixed with (IA)^3, or a module whose update shape differs between adapters (named).</exception>
    /// <exception cref="ObjectDisposedException">An adapter was disposed.</exception>
    /// <exception cref="OperationCanceledException">Cancelled.</exception>
    public static SimilarityReport Compute(IReadOnlyDictionary<string, PeftAdapter> adapters, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(adapters);
        var names = adapters.Keys.ToList();
        var (type, modules) = ModuleUpdateSet.Build(names, names.Select(n => adapters[n]).ToList(), cancellationToken);
        return FromUpdates(names, type, modules);
    }

    /// <summary>The report from per-module updates built over <paramref name="names"/>.</summary>
    internal static SimilarityReport FromUpdates(IReadOnlyList<string> names, PeftType type, IReadOnlyList<ModuleUpdates> modules)
    {
        int k = names.Count;
        var total = new double[k, k];
        var perModule = new List<ModuleSimilarity>(modules.Count);
        foreach (var m in modules)
        {
            var inner = new double[k, k];
            var present = new bool[k];
            for (int p = 0; p < m.Adapters.Length; p++)
            {
                present[m.Adapters[p]] = true;
                for (int q = p; q < m.Adapters.Length; q++)
                {
                    double v = m.UpdateInner(p, q);
                    inner[m.Adapters[p], m.Adapters[q]] = inner[m.Adapters[q], m.Adapters[p]] = v;
                }
            }
            for (int i = 0; i < k; i++)
                for (int j = 0; j < k; j++)
                    total[i, j] += inner[i, j];
            perModule.Add(new ModuleSimilarity
            {
                Module = m.Module,
                Present = present,
                Norms = Norms(inner),
                Cosines = Cosines(inner),
            });
        }
        return new SimilarityReport
        {
            PeftType = type,
            Adapters = names.ToList(),
            Norms = Norms(total),
            Cosines = Cosines(total),
            Modules = perModule,
        };
    }

    private static double[] Norms(double[,] inner) =>
        Enumerable.Range(0, inner.GetLength(0)).Select(i => Math.Sqrt(Math.Max(0, inner[i, i]))).ToArray();

    /// <summary>Cosines from a Gram matrix; null where a norm is zero; clamped to [-1, 1] against rounding.</summary>
    private static IReadOnlyList<IReadOnlyList<double?>> Cosines(double[,] inner)
    {
        int k = inner.GetLength(0);
        var rows = new IReadOnlyList<double?>[k];
        for (int i = 0; i < k; i++)
        {
            var row = new double?[k];
            for (int j = 0; j < k; j++)
            {
                double d = Math.Sqrt(Math.Max(0, inner[i, i])) * Math.Sqrt(Math.Max(0, inner[j, j]));
                row[j] = d > 0 ? Math.Clamp(inner[i, j] / d, -1.0, 1.0) : null;
            }
            rows[i] = row;
        }
        return rows;
    }
}
