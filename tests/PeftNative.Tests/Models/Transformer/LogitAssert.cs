using System.Globalization;

namespace PeftNative.Tests.Models.Transformer;

/// <summary>Logit comparisons for the forward-pass tests; failures name the case, row, column and values.</summary>
internal static class LogitAssert
{
    /// <summary>|got − expected| ≤ atol everywhere.</summary>
    public static void Absolute(string context, ReadOnlySpan<float> got, Func<int, double> expected, int columns, double atol)
    {
        double worst = 0;
        int worstAt = -1;
        for (int i = 0; i < got.Length; i++)
        {
            double diff = Math.Abs(got[i] - expected(i));
            if (!(diff <= worst) || double.IsNaN(got[i]))
            {
                worst = double.IsNaN(diff) ? double.PositiveInfinity : diff;
                worstAt = i;
            }
        }
        if (!(worst <= atol))
            Assert.Fail(string.Create(CultureInfo.InvariantCulture,
                $"{context}: max |diff| {worst:G4} > {atol:G4} at row {worstAt / columns}, column {worstAt % columns}: expected {expected(worstAt):G9}, actual {got[worstAt]:G9}"));
    }

    /// <summary>|got − expected| ≤ rtol · max|expected| (relative to the logits' scale, which does not blow up near zero).</summary>
    public static void Relative(string context, ReadOnlySpan<float> got, ReadOnlySpan<float> expected, int columns, double rtol)
    {
        Assert.That(got.Length, Is.EqualTo(expected.Length), context);
        double scale = 0;
        foreach (float v in expected)
            scale = Math.Max(scale, Math.Abs(v));
        Assert.That(scale, Is.GreaterThan(0), $"{context}: reference logits are all zero");
        var e = expected.ToArray();
        Absolute(context, got, i => e[i], columns, rtol * scale);
    }

    /// <summary>log p(token[i+1] | tokens ≤ i) from the logits rows.</summary>
    public static double[] TokenLogProbs(ReadOnlySpan<float> logits, int[] tokens, int vocab)
    {
        var result = new double[tokens.Length - 1];
        for (int t = 0; t + 1 < tokens.Length; t++)
        {
            ReadOnlySpan<float> row = logits.Slice(t * vocab, vocab);
            double max = double.NegativeInfinity;
            foreach (float v in row)
                max = Math.Max(max, v);
            double sum = 0;
            foreach (float v in row)
                sum += Math.Exp(v - max);
            result[t] = row[tokens[t + 1]] - max - Math.Log(sum);
        }
        return result;
    }
}
