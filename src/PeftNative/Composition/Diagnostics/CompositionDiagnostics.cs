using System.Globalization;
using MathNet.Numerics.LinearAlgebra;
using PeftNative.Adapters;

namespace PeftNative.Composition.Diagnostics;

/// <summary>
/// What a composition will do, computed from the factors alone (never forming an out x in update):
/// each adapter's per-module update norm and the cosine similarities (<see cref="AdapterSimilarity"/>),
/// the paper method's relative cross-term error against the exact weighted sum per module
/// (<see cref="CrossTermError"/>), how alike the adapters' A factors are (<see cref="AFactorAlignment"/>),
/// and warnings when the paper method's same-initialisation assumption looks broken.
/// <para>
/// The cross-term error: with beta_p = s_p * sum of the coefficients of adapter p's terms and
/// g_p = sum of their absolute values, B' = sum_p beta_p B_p, A' = sum_p g_p A_p and
/// dW_e = sum_p beta_p B_p A_p. From the Gram blocks P_pq = B_p^T B_q and Q_pq = A_p A_q^T,
/// ||dW_e||^2 = sum_pq beta_p beta_q &lt;P_pq, Q_pq&gt;, ||B'A'||^2 = &lt;sum_pq beta_p beta_q P_pq, sum_pq g_p g_q Q_pq&gt;,
/// &lt;B'A', dW_e&gt; = sum_q beta_q &lt;sum_p beta_p P_pq, sum_p g_p Q_pq&gt;, and
/// ||dW_p - dW_e||^2 = ||dW_p||^2 - 2 &lt;dW_p, dW_e&gt; + ||dW_e||^2 — the Gram trick on the stacked product
/// [B', -beta_1 B_1, ...] [A'; A_1; ...], in O((out + in) k^2 r^2). Its floor is about 1e-8 relative
/// (the squares cancel); one term alone is exact and reported as 0.
/// </para>
/// </summary>
public static class CompositionDiagnostics
{
    /// <summary>
    /// Analyses a composition. <paramref name="terms"/> are the terms as applied — after the paper's
    /// normalisation where it applies (<see cref="CoefficientNormalization.Apply"/>, or
    /// <see cref="CompositionResult.Terms"/>). Norms and similarities cover the adapters the terms name,
    /// in order of first appearance; a module one of them lacks is a zero update there.
    /// </summary>
    /// <exception cref="ArgumentException">No terms, a term naming an adapter not in <paramref name="adapters"/>, LoRA mixed with (IA)^3, a module whose shape differs between adapters, or a threshold that is not finite.</exception>
    /// <exception cref="ObjectDisposedException">An adapter was disposed.</exception>
    /// <exception cref="OperationCanceledException">Cancelled.</exception>
    public static CompositionDiagnosticsReport Analyze(IReadOnlyList<CompositionTerm> terms, IReadOnlyDictionary<string, PeftAdapter> adapters,
        CompositionDiagnosticsOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(terms);
        ArgumentNullException.ThrowIfNull(adapters);
        options ??= new CompositionDiagnosticsOptions();
        if (!double.IsFinite(options.AFactorCosineThreshold))
            throw new ArgumentException("the A-factor cosine threshold must be finite", nameof(options));
        if (terms.Count == 0)
            throw new ArgumentException("at least one term is needed", nameof(terms));
        var names = terms.Select(t => t.Adapter).Distinct(StringComparer.Ordinal).ToList();
        var unknown = names.Where(n => !adapters.ContainsKey(n)).ToList();
        if (unknown.Count > 0)
            throw new ArgumentException($"no adapter given for {string.Join(", ", unknown.Select(n => $"'{n}'"))} (given: {string.Join(", ", adapters.Keys)})", nameof(terms));
        foreach (var t in terms)
            if (!double.IsFinite(t.Coefficient))
                throw new ArgumentException($"term {t}: the coefficient must be finite", nameof(terms));

        var (type, modules) = ModuleUpdateSet.Build(names, names.Select(n => adapters[n]).ToList(), cancellationToken);
        var similarity = AdapterSimilarity.FromUpdates(names, type, modules);

        // Per adapter: beta (signed coefficients) and g (absolute ones) summed over its terms.
        var signed = new double[names.Count];
        var absolute = new double[names.Count];
        foreach (var t in terms)
        {
            int i = names.IndexOf(t.Adapter);
            signed[i] += t.Coefficient;
            absolute[i] += Math.Abs(t.Coefficient);
        }
        bool singleTerm = terms.Count == 1;
        var errors = modules.Select(m => m is LoraModuleUpdates lora
            ? LoraError(lora, signed, absolute, singleTerm, names)
            : LinearError(m, signed)).ToList();
        var alignments = type == PeftType.Lora
            ? Alignments(modules.Cast<LoraModuleUpdates>().ToList(), names, options.AFactorCosineThreshold)
            : [];

        double diff2 = 0, exact2 = 0;
        int applicable = 0;
        foreach (var e in errors)
        {
            if (e.DifferenceNorm is { } d)
            {
                diff2 += d * d;
                exact2 += e.ExactNorm * e.ExactNorm;
                applicable++;
            }
        }
        double? overall = applicable == 0 ? null : exact2 > 0 ? Math.Sqrt(diff2 / exact2) : diff2 > 0 ? double.PositiveInfinity : 0;
        var worst = errors.Where(e => e.RelativeError is not null).MaxBy(e => e.RelativeError!.Value);

        return new CompositionDiagnosticsReport
        {
            Terms = terms.ToList(),
            Similarity = similarity,
            CrossTermErrors = errors,
            OverallCrossTermError = overall,
            WorstCrossTermError = worst,
            AFactorAlignments = alignments,
            AFactorCosineThreshold = options.AFactorCosineThreshold,
            Warnings = Warnings(errors, alignments, overall, options.AFactorCosineThreshold),
        };
    }

    private static CrossTermError LoraError(LoraModuleUpdates m, double[] signed, double[] absolute, bool singleTerm, IReadOnlyList<string> names)
    {
        int k = m.Adapters.Length;
        var beta = new double[k];
        var g = new double[k];
        for (int p = 0; p < k; p++)
        {
            beta[p] = signed[m.Adapters[p]] * m.Scalings[p];
            g[p] = absolute[m.Adapters[p]];
        }
        double exact2 = 0;
        for (int p = 0; p < k; p++)
            for (int q = 0; q < k; q++)
                exact2 += beta[p] * beta[q] * FactorMatrices.Inner(m.P(p, q), m.Q(p, q));
        double exactNorm = Math.Sqrt(Math.Max(0, exact2));
        if (singleTerm)
            return new CrossTermError { Module = m.Module, ExactNorm = exactNorm, PaperNorm = exactNorm, DifferenceNorm = 0, RelativeError = exactNorm > 0 ? 0 : null };
        if (!m.EqualRanks)
        {
            string ranks = string.Join(", ", Enumerable.Range(0, k).Select(p => string.Create(CultureInfo.InvariantCulture, $"{names[m.Adapters[p]]} r={m.Ranks[p]}")));
            return new CrossTermError { Module = m.Module, ExactNorm = exactNorm, Note = $"ranks differ ({ranks}): the paper method needs equal ranks" };
        }

        int r = m.Ranks[0];
        var gb = Matrix<double>.Build.Dense(r, r);
        var ga = Matrix<double>.Build.Dense(r, r);
        for (int p = 0; p < k; p++)
        {
            for (int q = 0; q < k; q++)
            {
                gb.Add(m.P(p, q) * (beta[p] * beta[q]), gb);
                ga.Add(m.Q(p, q) * (g[p] * g[q]), ga);
            }
        }
        double paper2 = FactorMatrices.Inner(gb, ga);
        double cross = 0;
        for (int q = 0; q < k; q++)
        {
            var bq = Matrix<double>.Build.Dense(r, r);
            var aq = Matrix<double>.Build.Dense(r, r);
            for (int p = 0; p < k; p++)
            {
                bq.Add(m.P(p, q) * beta[p], bq);
                aq.Add(m.Q(p, q) * g[p], aq);
            }
            cross += beta[q] * FactorMatrices.Inner(bq, aq);
        }
        double diff = Math.Sqrt(Math.Max(0, paper2 - 2 * cross + exact2));
        return new CrossTermError
        {
            Module = m.Module,
            ExactNorm = exactNorm,
            PaperNorm = Math.Sqrt(Math.Max(0, paper2)),
            DifferenceNorm = diff,
            RelativeError = exactNorm > 0 ? diff / exactNorm : null,
        };
    }

    /// <summary>(IA)^3: the paper's arithmetic is linear in l - 1, so it equals the exact sum.</summary>
    private static CrossTermError LinearError(ModuleUpdates m, double[] signed)
    {
        double exact2 = 0;
        for (int p = 0; p < m.Adapters.Length; p++)
            for (int q = 0; q < m.Adapters.Length; q++)
                exact2 += signed[m.Adapters[p]] * signed[m.Adapters[q]] * m.UpdateInner(p, q);
        double norm = Math.Sqrt(Math.Max(0, exact2));
        return new CrossTermError { Module = m.Module, ExactNorm = norm, PaperNorm = norm, DifferenceNorm = 0, RelativeError = norm > 0 ? 0 : null };
    }

    private static List<AFactorAlignment> Alignments(IReadOnlyList<LoraModuleUpdates> modules, IReadOnlyList<string> names, double threshold)
    {
        var result = new List<AFactorAlignment>();
        for (int i = 0; i < names.Count; i++)
        {
            for (int j = i + 1; j < names.Count; j++)
            {
                var cosines = new List<double>();
                foreach (var m in modules)
                {
                    int p = m.LocalIndex(i), q = m.LocalIndex(j);
                    if (p < 0 || q < 0 || m.Ranks[p] != m.Ranks[q])
                        continue;
                    double d = Math.Sqrt(Math.Max(0, m.AInner(p, p)) * Math.Max(0, m.AInner(q, q)));
                    if (d > 0)
                        cosines.Add(Math.Clamp(m.AInner(p, q) / d, -1.0, 1.0));
                }
                double? mean = cosines.Count > 0 ? cosines.Average() : null;
                result.Add(new AFactorAlignment
                {
                    First = names[i],
                    Second = names[j],
                    Modules = cosines.Count,
                    MeanCosine = mean,
                    MinCosine = cosines.Count > 0 ? cosines.Min() : null,
                    LooksUnrelated = mean < threshold,
                });
            }
        }
        return result;
    }

    private static List<string> Warnings(List<CrossTermError> errors, List<AFactorAlignment> alignments, double? overall, double threshold)
    {
        var warnings = new List<string>();
        string errorText = overall is { } o ? string.Create(CultureInfo.InvariantCulture, $"; the paper update is {o:G3} (relative Frobenius error) from the exact sum overall") : "";
        foreach (var a in alignments.Where(a => a.LooksUnrelated))
        {
            string measured = string.Create(CultureInfo.InvariantCulture, $"mean cosine {a.MeanCosine:F3} over {a.Modules} modules, below {threshold:G3}");
            warnings.Add($"adapters '{a.First}' and '{a.Second}': their LoRA A factors look unrelated ({measured}), as if trained from different " +
                $"initialisations; the paper method assumes one shared initialisation, so its cross terms B_i A_j do not cancel{errorText}. Consider --method exact or svd");
        }
        var unequal = errors.Where(e => e.Note is not null).ToList();
        if (unequal.Count > 0)
            warnings.Add($"{unequal.Count} module{(unequal.Count == 1 ? "" : "s")} (first {unequal[0].Module}): {unequal[0].Note}");
        return warnings;
    }
}
