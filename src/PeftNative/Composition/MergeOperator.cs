using PeftNative.Composition.Operators;

namespace PeftNative.Composition;

/// <summary>Which of PEFT's merge_utils operators a method applies (b.2 of the merge-methods notes).</summary>
internal enum MergeOperator
{
    /// <summary>sum_i c_i T_i.</summary>
    TaskArithmetic,
    /// <summary>sum_i c_i prune_magnitude(T_i).</summary>
    MagnitudePrune,
    /// <summary>TIES: trim, elect, disjoint mean.</summary>
    Ties,
    /// <summary>sum_i c_i (T_i keep_i / p).</summary>
    DareLinear,
    /// <summary>Rescaled random drop, then TIES.</summary>
    DareTies,
}

/// <summary>Runs a <see cref="MergeOperator"/> through <see cref="TaskVectorOperators"/>.</summary>
internal static class MergeOperatorRunner
{
    /// <summary>The merged tensor (same length as the inputs).</summary>
    /// <param name="op">The operator.</param>
    /// <param name="tensors">The inputs, flat, equal lengths.</param>
    /// <param name="weights">One weight per input.</param>
    /// <param name="density">Fraction kept (magnitude, TIES, DARE).</param>
    /// <param name="sign">TIES sign election.</param>
    /// <param name="keepFor">The DARE keep-mask of input i (filled into the span given).</param>
    public static double[] Run(MergeOperator op, IReadOnlyList<double[]> tensors, double[] weights, double density, MajoritySignMethod sign,
        Action<int, Span<bool>> keepFor)
    {
        var inputs = tensors.Select(t => (ReadOnlyMemory<double>)t).ToList();
        var result = new double[tensors[0].Length];
        switch (op)
        {
            case MergeOperator.TaskArithmetic:
                TaskVectorOperators.TaskArithmetic(inputs, weights, result);
                break;
            case MergeOperator.MagnitudePrune:
                TaskVectorOperators.MagnitudePrune(inputs, weights, density, result);
                break;
            case MergeOperator.Ties:
                TaskVectorOperators.Ties(inputs, weights, density, sign, result);
                break;
            case MergeOperator.DareLinear:
            case MergeOperator.DareTies:
                var masks = new List<ReadOnlyMemory<bool>>(tensors.Count);
                for (int i = 0; i < tensors.Count; i++)
                {
                    var keep = new bool[tensors[i].Length];
                    keepFor(i, keep);
                    masks.Add(keep);
                }
                if (op == MergeOperator.DareLinear)
                    TaskVectorOperators.DareLinear(inputs, weights, density, masks, result);
                else
                    TaskVectorOperators.DareTies(inputs, weights, density, masks, sign, result);
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(op), op, "unknown operator");
        }
        return result;
    }
}
