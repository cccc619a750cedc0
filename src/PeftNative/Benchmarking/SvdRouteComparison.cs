namespace PeftNative.Benchmarking;

/// <summary>
/// One size of <see cref="CompositionProbe"/>'s svd comparison: sum_i B_i A_i of k rank-r adapters on
/// an n x n target truncated to rank t, from the factors (<see cref="Composition.LowRankSvd.Truncate"/>:
/// QR of the stacked factors, SVD of the small core) against the dense route (form the n x n sum,
/// MathNet's full SVD with vectors, keep t), in the same run. Float64 matrices in memory; reading
/// adapters and converting dtypes is not timed in either route.
/// </summary>
public sealed record SvdRouteComparison
{
    /// <summary>n (the target is n x n).</summary>
    public required int Size { get; init; }

    /// <summary>k adapters.</summary>
    public required int Adapters { get; init; }

    /// <summary>r of each adapter.</summary>
    public required int Rank { get; init; }

    /// <summary>t, the rank kept.</summary>
    public required int TargetRank { get; init; }

    /// <summary>Best seconds of the factor route.</summary>
    public required double FactorSeconds { get; init; }

    /// <summary>Seconds of the dense route (one run).</summary>
    public required double DenseSeconds { get; init; }

    /// <summary>Of which: forming the dense sum.</summary>
    public required double DenseSumSeconds { get; init; }

    /// <summary><see cref="DenseSeconds"/> / <see cref="FactorSeconds"/> (target at n = 4096, 8 adapters of rank 16: at least 100).</summary>
    public required double Ratio { get; init; }

    /// <summary>max over the leading t singular values of |s_factor - s_dense| / s_dense (target: at most 1e-4).</summary>
    public required double LeadingSingularValueDifference { get; init; }
}
