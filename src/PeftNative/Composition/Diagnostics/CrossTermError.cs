namespace PeftNative.Composition.Diagnostics;

/// <summary>
/// How far the paper method's update is from the exact weighted sum on one module
/// (<see cref="CompositionDiagnostics"/>): paper dW_p = B' A' with B' = sum_i c_i s_i B_i and
/// A' = sum_i |c_i| A_i (one term c*m: dW_p = c s B A, exact), exact dW_e = sum_i c_i s_i B_i A_i.
/// </summary>
public sealed record CrossTermError
{
    /// <summary>Module path.</summary>
    public required string Module { get; init; }

    /// <summary>||dW_e||_F.</summary>
    public required double ExactNorm { get; init; }

    /// <summary>||dW_p||_F; null where the paper method does not apply (see <see cref="Note"/>).</summary>
    public double? PaperNorm { get; init; }

    /// <summary>||dW_p - dW_e||_F; null where the paper method does not apply.</summary>
    public double? DifferenceNorm { get; init; }

    /// <summary>||dW_p - dW_e||_F / ||dW_e||_F; null where the paper method does not apply or dW_e is zero.</summary>
    public double? RelativeError { get; init; }

    /// <summary>Why there is no error figure, or null.</summary>
    public string? Note { get; init; }
}
