namespace PeftNative.Composition.Diagnostics;

/// <summary>Settings of <see cref="CompositionDiagnostics.Analyze"/>.</summary>
public sealed record CompositionDiagnosticsOptions
{
    /// <summary>The default <see cref="AFactorCosineThreshold"/>.</summary>
    public const double DefaultAFactorCosineThreshold = 0.5;

    /// <summary>
    /// Two LoRA adapters whose mean A-factor cosine (<see cref="AFactorAlignment.MeanCosine"/>) is below
    /// this look independently initialised, and the paper method warns (default 0.5).
    /// <para>
    /// Why 0.5: independent random A factors give a mean cosine within a few times
    /// 1 / sqrt(modules * r * in) of 0 (0.02-0.05 on the tiny reference adapters, under 0.01 on real
    /// shapes), while A factors from one initialisation that moved little keep a cosine near 1. And the
    /// figure is what the paper's error hangs on: averaging two adapters whose A factors have cosine rho
    /// (equal norms) and unrelated B factors leaves a relative error of about sqrt((1 - rho) / 2) — the
    /// paper update minus the exact one is -(1/4)(B_1 - B_2)(A_1 - A_2), and ||A_1 - A_2||^2 = 2 (1 - rho) ||A||^2.
    /// At rho = 0.5 that is 0.5: the cross terms are half the size of the sum the user asked for.
    /// The exact error is reported beside the warning (<see cref="CompositionDiagnosticsReport.OverallCrossTermError"/>).
    /// </para>
    /// </summary>
    public double AFactorCosineThreshold { get; init; } = DefaultAFactorCosineThreshold;
}
