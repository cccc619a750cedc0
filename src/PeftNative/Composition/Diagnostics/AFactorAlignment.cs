namespace PeftNative.Composition.Diagnostics;

/// <summary>
/// How alike two LoRA adapters' A factors are: the cosine similarity of vec(A_1) and vec(A_2) on
/// each module both have with equal ranks, then the mean over those modules. A factors that start
/// from one initialisation stay strongly correlated through training; independently initialised
/// ones have cosines near 0 (about 1 / sqrt(r * in) per module). See
/// <see cref="CompositionDiagnosticsOptions.AFactorCosineThreshold"/>.
/// </summary>
public sealed record AFactorAlignment
{
    /// <summary>First adapter's name.</summary>
    public required string First { get; init; }

    /// <summary>Second adapter's name.</summary>
    public required string Second { get; init; }

    /// <summary>Modules compared (both have them, equal ranks, non-zero A).</summary>
    public required int Modules { get; init; }

    /// <summary>Mean cosine over the compared modules; null when none were compared.</summary>
    public double? MeanCosine { get; init; }

    /// <summary>Smallest cosine over the compared modules; null when none were compared.</summary>
    public double? MinCosine { get; init; }

    /// <summary>True when <see cref="MeanCosine"/> is below the threshold: the A factors look independently initialised.</summary>
    public required bool LooksUnrelated { get; init; }
}
