namespace PeftNative.Evaluation;

/// <summary>The numerics every evaluation shares, on one row of logits, in float64.</summary>
internal static class LogitMath
{
    /// <summary>
    /// log softmax(logits)[token] = logits[token] - (m + log Σ_j exp(logits[j] - m)) with m = max_j logits[j]
    /// (subtracting the maximum keeps exp from overflowing), accumulated in double.
    /// </summary>
    /// <exception cref="InvalidDataException">A logit is NaN or infinite; <paramref name="where"/> says which row.</exception>
    public static double LogProbability(ReadOnlySpan<float> logits, int token, string where)
    {
        double max = double.NegativeInfinity;
        foreach (float x in logits)
        {
            if (!float.IsFinite(x))
                throw new InvalidDataException($"the model produced a non-finite logit ({x}) {where}");
            if (x > max)
                max = x;
        }
        double sum = 0;
        foreach (float x in logits)
            sum += Math.Exp(x - max);
        return logits[token] - (max + Math.Log(sum));
    }

    /// <summary>The index of the largest logit (the lowest such index on ties, as numpy's argmax).</summary>
    /// <exception cref="InvalidDataException">A logit is NaN or infinite.</exception>
    public static int ArgMax(ReadOnlySpan<float> logits, string where)
    {
        int best = 0;
        for (int i = 0; i < logits.Length; i++)
        {
            if (!float.IsFinite(logits[i]))
                throw new InvalidDataException($"the model produced a non-finite logit ({logits[i]}) {where}");
            if (logits[i] > logits[best])
                best = i;
        }
        return best;
    }
}
