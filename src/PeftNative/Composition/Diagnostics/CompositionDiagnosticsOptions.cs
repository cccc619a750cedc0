namespace PeftNative.Composition.Diagnostics;

/// <summary>Settings of <see cref="CompositionDiagnostics.Analyze"/>.</summary>
public sealed record CompositionDiagnosticsOptions
{
    /// <summary>The default <see cref="AFactorCosineThreshold"/>.</summary>
    public const double DefaultAFactorCosineThreshold = 0.5;

    /// <summary>
    /// Two LoRA adapters whose mean A-factor cosine (<see cref="AFactorAlignment.MeanCosine"/>) is below
    /// this look independently initialised, and the paper method warns (default 0.5). Why 0.5: independent
    /// random A factors give a mean cosine within a few times 1 / sqrt(modules * r * in) of 0 (under 0.01 for
    /// any real model), while A factors from one initialisation keep most of it — PEFT starts B at zero,
    /// so A moves only as far as the gradients through B push it. Half-way leaves a wide margin on both
    /// sides; and at a cosine of 0.5 between equal-norm A factors, ||A_1 - A_2|| = ||A_1||, so the cross
    /// terms B_i A_j are as large as the terms themselves — the paper's same-initialisation assumption
    /// has already failed there.
    /// </summary>
    public double AFactorCosineThreshold { get; init; } = DefaultAFactorCosineThreshold;
}
