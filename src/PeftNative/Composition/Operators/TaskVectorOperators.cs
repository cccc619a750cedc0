using System.Buffers;

namespace PeftNative.Composition.Operators;

/// <summary>
/// PEFT's merge operators (src/peft/utils/merge_utils.py) on flat float64 tensors of one shape:
/// tensors T_1..T_n, weights c_1..c_n, the result written to <c>result</c> (which may not alias an
/// input). Randomness (DARE) comes in as explicit keep-masks so that a seed gives the same masks
/// everywhere (<see cref="DareMask"/>).
/// </summary>
/// <remarks>
/// <para>Density p: must be finite and &gt; 0 (PEFT's p = 0 prunes everything for magnitude and gives 0/0 for
/// DARE, so it is refused); p &gt;= 1 means no pruning at all, as in PEFT: the tensors are used unchanged
/// (magnitude) or unmasked and unscaled (DARE, the keep-masks are then not read).</para>
/// <para>Magnitude pruning keeps k = floor(p * n) elements (PEFT's int(p * numel), computed in float64),
/// the largest |T|; equal magnitudes are kept lowest index first (PEFT's torch.topk leaves this
/// unspecified); -0 ties with +0 and NaN ranks above +Inf. k = 0 gives all zeros.</para>
/// <para>Masks multiply (T * m, m in {0, 1}) as in PEFT, so a pruned negative becomes -0 and a pruned Inf or
/// NaN becomes NaN. Weights must be finite.</para>
/// <para>Cost: O(n) per tensor plus an average O(n) selection for the magnitude cut; scratch is one
/// n-element key buffer and, for TIES, a block of 1024 elements per tensor, all pooled.</para>
/// </remarks>
public static class TaskVectorOperators
{
    /// <summary>Elements per block for the TIES passes: rows of all inputs stay in cache while electing.</summary>
    private const int BlockSize = 1024;

    /// <summary>sum_i c_i T_i.</summary>
    /// <exception cref="ArgumentException">No tensors, a weight count other than the tensor count, a non-finite weight, unequal lengths, a result of another length or overlapping an input.</exception>
    public static void TaskArithmetic(IReadOnlyList<ReadOnlyMemory<double>> tensors, ReadOnlySpan<double> weights, Span<double> result)
    {
        OperatorArguments.Tensors(tensors, weights, result);
        WeightedSum(tensors, weights, result);
    }

    /// <summary>Keeps the floor(density * n) largest |T| (ties broken by lower index), zeroes the rest; density &gt;= 1 copies.</summary>
    /// <exception cref="ArgumentException">A result of another length or overlapping the tensor.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="density"/> is not finite or not &gt; 0.</exception>
    public static void PruneByMagnitude(ReadOnlySpan<double> tensor, double density, Span<double> result)
    {
        OperatorArguments.Density(density);
        if (result.Length != tensor.Length)
            throw new ArgumentException($"result has {result.Length} elements but the tensor has {tensor.Length}", nameof(result));
        if (result.Overlaps(tensor))
            throw new ArgumentException("result overlaps the tensor; the result must be a separate buffer", nameof(result));
        if (density >= 1)
        {
            tensor.CopyTo(result);
            return;
        }
        ulong[] scratch = ArrayPool<ulong>.Shared.Rent(tensor.Length);
        try
        {
            var cut = MagnitudeCut.Compute(tensor, MagnitudeCut.KeepCount(density, tensor.Length), scratch);
            for (int j = 0; j < tensor.Length; j++)
                result[j] = tensor[j] * Indicator.Of(cut.Keep(tensor[j]));
        }
        finally
        {
            ArrayPool<ulong>.Shared.Return(scratch);
        }
    }

    /// <summary>sum_i c_i prune_magnitude(T_i, density).</summary>
    /// <exception cref="ArgumentException">As <see cref="TaskArithmetic"/>.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="density"/> is not finite or not &gt; 0.</exception>
    public static void MagnitudePrune(IReadOnlyList<ReadOnlyMemory<double>> tensors, ReadOnlySpan<double> weights, double density, Span<double> result)
    {
        int length = OperatorArguments.Tensors(tensors, weights, result);
        OperatorArguments.Density(density);
        if (density >= 1)
        {
            WeightedSum(tensors, weights, result);
            return;
        }
        ulong[] scratch = ArrayPool<ulong>.Shared.Rent(length);
        try
        {
            int keepCount = MagnitudeCut.KeepCount(density, length);
            for (int i = 0; i < tensors.Count; i++)
            {
                ReadOnlySpan<double> t = tensors[i].Span;
                double c = weights[i];
                var cut = MagnitudeCut.Compute(t, keepCount, scratch);
                // PEFT's order: prune (T * mask), then weight, then sum over the inputs.
                if (i == 0)
                {
                    for (int j = 0; j < length; j++)
                        result[j] = t[j] * Indicator.Of(cut.Keep(t[j])) * c;
                }
                else
                {
                    for (int j = 0; j < length; j++)
                        result[j] += t[j] * Indicator.Of(cut.Keep(t[j])) * c;
                }
            }
        }
        finally
        {
            ArrayPool<ulong>.Shared.Return(scratch);
        }
    }

    /// <summary>TIES: trim by magnitude, elect signs on the unweighted trimmed tensors, disjoint weighted mean.</summary>
    /// <remarks>
    /// T^_i = prune_magnitude(T_i, density); S = sum_i T^_i (Total) or sum_i sign(T^_i) (Frequency);
    /// sigma = +1 when S &gt;= 0 else -1; result = sum_i [sign(T^_i) = sigma] c_i T^_i / max(count of agreeing i, 1).
    /// </remarks>
    /// <exception cref="ArgumentException">As <see cref="TaskArithmetic"/>.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="density"/> is not finite or not &gt; 0, or <paramref name="method"/> is undefined.</exception>
    public static void Ties(IReadOnlyList<ReadOnlyMemory<double>> tensors, ReadOnlySpan<double> weights, double density, MajoritySignMethod method, Span<double> result)
    {
        int length = OperatorArguments.Tensors(tensors, weights, result);
        OperatorArguments.Density(density);
        OperatorArguments.Method(method);
        int n = tensors.Count;
        MagnitudeCut[]? cuts = null;
        if (density < 1)
        {
            cuts = new MagnitudeCut[n];
            ulong[] scratch = ArrayPool<ulong>.Shared.Rent(length);
            try
            {
                int keepCount = MagnitudeCut.KeepCount(density, length);
                for (int i = 0; i < n; i++)
                    cuts[i] = MagnitudeCut.Compute(tensors[i].Span, keepCount, scratch);
            }
            finally
            {
                ArrayPool<ulong>.Shared.Return(scratch);
            }
        }

        int block = Math.Min(length, BlockSize);
        double[] rows = ArrayPool<double>.Shared.Rent(n * block);
        try
        {
            for (int start = 0; start < length; start += block)
            {
                int len = Math.Min(block, length - start);
                for (int i = 0; i < n; i++)
                {
                    ReadOnlySpan<double> src = tensors[i].Span.Slice(start, len);
                    Span<double> row = rows.AsSpan(i * block, len);
                    if (cuts is null)
                    {
                        src.CopyTo(row);
                        continue;
                    }
                    // The cut counts threshold ties in index order, so each tensor's cut advances block by block.
                    ref MagnitudeCut cut = ref cuts[i];
                    for (int j = 0; j < len; j++)
                        row[j] = src[j] * Indicator.Of(cut.Keep(src[j]));
                }
                SignElection.DisjointMerge(rows.AsSpan(0, n * block), block, weights, method, result.Slice(start, len));
            }
        }
        finally
        {
            ArrayPool<double>.Shared.Return(rows);
        }
    }

    /// <summary>DARE linear: sum_i c_i (T_i * keep_i / density).</summary>
    /// <remarks>Evaluated as ((T * m) / density) * c, PEFT's order; density &gt;= 1 is plain task arithmetic (masks not read).</remarks>
    /// <exception cref="ArgumentException">As <see cref="TaskArithmetic"/>, or a keep-mask count other than the tensor count or a mask of another length.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="density"/> is not finite or not &gt; 0.</exception>
    public static void DareLinear(IReadOnlyList<ReadOnlyMemory<double>> tensors, ReadOnlySpan<double> weights, double density, IReadOnlyList<ReadOnlyMemory<bool>> keep, Span<double> result)
    {
        int length = OperatorArguments.Tensors(tensors, weights, result);
        OperatorArguments.Density(density);
        OperatorArguments.KeepMasks(keep, tensors.Count, length);
        if (density >= 1)
        {
            WeightedSum(tensors, weights, result);
            return;
        }
        for (int i = 0; i < tensors.Count; i++)
        {
            ReadOnlySpan<double> t = tensors[i].Span;
            ReadOnlySpan<bool> m = keep[i].Span;
            double c = weights[i];
            if (i == 0)
            {
                for (int j = 0; j < length; j++)
                    result[j] = t[j] * Indicator.Of(m[j]) / density * c;
            }
            else
            {
                for (int j = 0; j < length; j++)
                    result[j] += t[j] * Indicator.Of(m[j]) / density * c;
            }
        }
    }

    /// <summary>DARE TIES: rescaled random drop, then the TIES election and disjoint mean.</summary>
    /// <remarks>
    /// T~_i = T_i * keep_i / density (T_i itself when density &gt;= 1), then the election and disjoint mean of
    /// <see cref="Ties"/> on the T~_i.
    /// </remarks>
    /// <exception cref="ArgumentException">As <see cref="DareLinear"/>.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="density"/> is not finite or not &gt; 0, or <paramref name="method"/> is undefined.</exception>
    public static void DareTies(IReadOnlyList<ReadOnlyMemory<double>> tensors, ReadOnlySpan<double> weights, double density, IReadOnlyList<ReadOnlyMemory<bool>> keep, MajoritySignMethod method, Span<double> result)
    {
        int length = OperatorArguments.Tensors(tensors, weights, result);
        OperatorArguments.Density(density);
        OperatorArguments.Method(method);
        OperatorArguments.KeepMasks(keep, tensors.Count, length);
        int n = tensors.Count;
        int block = Math.Min(length, BlockSize);
        double[] rows = ArrayPool<double>.Shared.Rent(n * block);
        try
        {
            for (int start = 0; start < length; start += block)
            {
                int len = Math.Min(block, length - start);
                for (int i = 0; i < n; i++)
                {
                    ReadOnlySpan<double> src = tensors[i].Span.Slice(start, len);
                    Span<double> row = rows.AsSpan(i * block, len);
                    if (density >= 1)
                    {
                        src.CopyTo(row);
                        continue;
                    }
                    ReadOnlySpan<bool> m = keep[i].Span.Slice(start, len);
                    for (int j = 0; j < len; j++)
                        row[j] = src[j] * Indicator.Of(m[j]) / density;
                }
                SignElection.DisjointMerge(rows.AsSpan(0, n * block), block, weights, method, result.Slice(start, len));
            }
        }
        finally
        {
            ArrayPool<double>.Shared.Return(rows);
        }
    }

    /// <summary>result = sum_i T_i c_i, inputs added in order (PEFT's T * c then a sum over the stack).</summary>
    private static void WeightedSum(IReadOnlyList<ReadOnlyMemory<double>> tensors, ReadOnlySpan<double> weights, Span<double> result)
    {
        for (int i = 0; i < tensors.Count; i++)
        {
            ReadOnlySpan<double> t = tensors[i].Span;
            double c = weights[i];
            if (i == 0)
            {
                for (int j = 0; j < result.Length; j++)
                    result[j] = t[j] * c;
            }
            else
            {
                for (int j = 0; j < result.Length; j++)
                    result[j] += t[j] * c;
            }
        }
    }
}
