namespace PeftNative.Composition;

/// <summary>
/// The paper's weight rule (DESIGN.md section 1): when every coefficient is positive and there are
/// at least two terms, the coefficients are rescaled to sum to 1 (the paper averages modules);
/// with any negative (or zero) coefficient, a single term, or raw weights asked for, they are used
/// as written. Only the paper method applies it; the other methods use weights as written.
/// </summary>
public static class CoefficientNormalization
{
    /// <summary>True when <see cref="Apply"/> would rescale these terms.</summary>
    public static bool Applies(IReadOnlyList<CompositionTerm> terms, bool rawWeights)
    {
        ArgumentNullException.ThrowIfNull(terms);
        return !rawWeights && terms.Count >= 2 && terms.All(t => t.Coefficient > 0);
    }

    /// <summary>The terms with the rule applied.</summary>
    public static IReadOnlyList<CompositionTerm> Apply(IReadOnlyList<CompositionTerm> terms, bool rawWeights)
    {
        if (!Applies(terms, rawWeights))
            return terms;
        double sum = 0;
        foreach (var t in terms)
            sum += t.Coefficient;
        return terms.Select(t => t with { Coefficient = t.Coefficient / sum }).ToList();
    }
}
