namespace PeftNative.Composition.Operators;

/// <summary>
/// PEFT's merge operators (src/peft/utils/merge_utils.py) on flat float64 tensors of one shape:
/// tensors T_1..T_n, weights c_1..c_n, the result written to <c>result</c> (which may not alias an
/// input). Randomness (DARE) comes in as explicit keep-masks so that a seed gives the same masks
/// everywhere (<see cref="DareMask"/>). (Contract stub: implemented by the operators work.)
/// </summary>
public static class TaskVectorOperators
{
    /// <summary>sum_i c_i T_i.</summary>
    public static void TaskArithmetic(IReadOnlyList<ReadOnlyMemory<double>> tensors, ReadOnlySpan<double> weights, Span<double> result) =>
        throw new NotImplementedException("contract stub");

    /// <summary>Keeps the floor(density * n) largest |T| (ties broken by lower index), zeroes the rest; density &gt;= 1 copies.</summary>
    public static void PruneByMagnitude(ReadOnlySpan<double> tensor, double density, Span<double> result) =>
        throw new NotImplementedException("contract stub");

    /// <summary>sum_i c_i prune_magnitude(T_i, density).</summary>
    public static void MagnitudePrune(IReadOnlyList<ReadOnlyMemory<double>> tensors, ReadOnlySpan<double> weights, double density, Span<double> result) =>
        throw new NotImplementedException("contract stub");

    /// <summary>TIES: trim by magnitude, elect signs on the unweighted trimmed tensors, disjoint weighted mean.</summary>
    public static void Ties(IReadOnlyList<ReadOnlyMemory<double>> tensors, ReadOnlySpan<double> weights, double density, MajoritySignMethod method, Span<double> result) =>
        throw new NotImplementedException("contract stub");

    /// <summary>DARE linear: sum_i c_i (T_i * keep_i / density).</summary>
    public static void DareLinear(IReadOnlyList<ReadOnlyMemory<double>> tensors, ReadOnlySpan<double> weights, double density, IReadOnlyList<ReadOnlyMemory<bool>> keep, Span<double> result) =>
        throw new NotImplementedException("contract stub");

    /// <summary>DARE TIES: rescaled random drop, then the TIES election and disjoint mean.</summary>
    public static void DareTies(IReadOnlyList<ReadOnlyMemory<double>> tensors, ReadOnlySpan<double> weights, double density, IReadOnlyList<ReadOnlyMemory<bool>> keep, MajoritySignMethod method, Span<double> result) =>
        throw new NotImplementedException("contract stub");
}
