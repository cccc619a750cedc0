namespace PeftNative.Composition.Operators;

/// <summary>
/// TIES' sign election and disjoint mean (PEFT's calculate_majority_sign_mask and disjoint_merge) over
/// a block of already trimmed (or DARE-rescaled) values, one row per input tensor.
/// </summary>
/// <remarks>
/// Per element, with v_i the unweighted trimmed values:
/// S = sum_i v_i ("total") or sum_i sign(v_i) ("frequency"); sigma = +1 when S &gt;= 0, else -1 (a tie or
/// an all-zero column elects +1, a NaN sum elects -1, as torch.where(S &gt;= 0, 1, -1) does);
/// agree_i = sign(v_i) == sigma (zeros and NaN never agree);
/// result = sum_i (v_i c_i) * agree_i / max(sum_i agree_i, 1).
/// The weights act only after the election and the divisor is a count, both as in PEFT. The mask
/// multiplies rather than selects, so a disagreeing Inf or NaN still turns the element into NaN, as it
/// does in PEFT.
/// </remarks>
internal static class SignElection
{
    /// <summary>Elects and merges elements [0, result.Length) of the rows rows[i * stride + j].</summary>
    public static void DisjointMerge(ReadOnlySpan<double> rows, int stride, ReadOnlySpan<double> weights, MajoritySignMethod method, Span<double> result)
    {
        int count = weights.Length;
        for (int j = 0; j < result.Length; j++)
        {
            double s = 0;
            if (method == MajoritySignMethod.Total)
            {
                for (int i = 0, at = j; i < count; i++, at += stride)
                    s += rows[at];
            }
            else
            {
                for (int i = 0, at = j; i < count; i++, at += stride)
                    s += Sign(rows[at]);
            }
            // sigma * v > 0 is "sign(v) == sigma" for every v, NaN included (false); branch-free since signs are coin flips.
            double sigma = Indicator.Of(s >= 0) * 2 - 1;

            double sum = 0;
            int agreeing = 0;
            for (int i = 0, at = j; i < count; i++, at += stride)
            {
                double v = rows[at];
                int agree = Indicator.Of(sigma * v > 0);
                sum += v * weights[i] * agree;
                agreeing += agree;
            }
            result[j] = sum / Math.Max(agreeing, 1);
        }
    }

    /// <summary>torch.sign: -1, 0 (for either zero) or +1, and NaN for NaN (Math.Sign would throw).</summary>
    private static double Sign(double v) => double.IsNaN(v) ? v : Indicator.Of(v > 0) - Indicator.Of(v < 0);
}
