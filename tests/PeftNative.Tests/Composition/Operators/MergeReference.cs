using PeftNative.Composition;

namespace PeftNative.Tests.Composition.Operators;

/// <summary>
/// A plain float64 re-statement of PEFT's merge_utils formulas, written for clarity, not speed: magnitude
/// top-k by sorting indices (|T| descending, then index ascending: the documented tie rule), the sign
/// election and disjoint mean as straightforward loops. Finite inputs only.
/// </summary>
internal static class MergeReference
{
    public static double[] Prune(double[] t, double density)
    {
        if (density >= 1)
            return (double[])t.Clone();
        int k = (int)(density * t.Length);
        var order = new int[t.Length];
        for (int j = 0; j < order.Length; j++)
            order[j] = j;
        Array.Sort(order, (a, b) =>
        {
            int byMagnitude = Math.Abs(t[b]).CompareTo(Math.Abs(t[a]));
            return byMagnitude != 0 ? byMagnitude : a.CompareTo(b);
        });
        var result = new double[t.Length];
        for (int r = 0; r < k; r++)
            result[order[r]] = t[order[r]];
        return result;
    }

    public static double[] Dare(double[] t, bool[] keep, double density)
    {
        if (density >= 1)
            return (double[])t.Clone();
        var result = new double[t.Length];
        for (int j = 0; j < t.Length; j++)
            result[j] = keep[j] ? t[j] / density : 0;
        return result;
    }

    public static double[] Sum(double[][] t, double[] w)
    {
        var result = new double[t[0].Length];
        for (int i = 0; i < t.Length; i++)
            for (int j = 0; j < result.Length; j++)
                result[j] += w[i] * t[i][j];
        return result;
    }

    /// <summary>Election on the unweighted values, weights after, divisor = number of agreeing inputs (at least 1).</summary>
    public static double[] ElectAndMerge(double[][] trimmed, double[] w, MajoritySignMethod method)
    {
        var result = new double[trimmed[0].Length];
        for (int j = 0; j < result.Length; j++)
        {
            double s = 0;
            for (int i = 0; i < trimmed.Length; i++)
                s += method == MajoritySignMethod.Total ? trimmed[i][j] : Math.Sign(trimmed[i][j]);
            int sigma = s >= 0 ? 1 : -1;
            double sum = 0;
            int count = 0;
            for (int i = 0; i < trimmed.Length; i++)
            {
                if (Math.Sign(trimmed[i][j]) == sigma)
                {
                    sum += w[i] * trimmed[i][j];
                    count++;
                }
            }
            result[j] = sum / Math.Max(count, 1);
        }
        return result;
    }

    public static double[] TaskArithmetic(double[][] t, double[] w) => Sum(t, w);

    public static double[] MagnitudePrune(double[][] t, double[] w, double density) => Sum(t.Select(x => Prune(x, density)).ToArray(), w);

    public static double[] Ties(double[][] t, double[] w, double density, MajoritySignMethod method) =>
        ElectAndMerge(t.Select(x => Prune(x, density)).ToArray(), w, method);

    public static double[] DareLinear(double[][] t, double[] w, double density, bool[][] keep) =>
        Sum(t.Select((x, i) => Dare(x, keep[i], density)).ToArray(), w);

    public static double[] DareTies(double[][] t, double[] w, double density, bool[][] keep, MajoritySignMethod method) =>
        ElectAndMerge(t.Select((x, i) => Dare(x, keep[i], density)).ToArray(), w, method);
}
