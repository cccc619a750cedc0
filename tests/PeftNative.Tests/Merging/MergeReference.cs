using PeftNative.Adapters;

namespace PeftNative.Tests.Merging;

/// <summary>Float64 references of what a merge must produce (DESIGN.md section 1), from the base values and the adapter's factors.</summary>
internal static class MergeReference
{
    /// <summary>
    /// W + Σ c·s·B@A (the transpose for Conv1D [in, out] weights), and per element Σ|term| for the
    /// tolerance. <paramref name="terms"/>: (module, coefficient).
    /// </summary>
    public static (double[] Expected, double[] Magnitude) Lora(double[] w, long rows, long cols, IEnumerable<(LoraModule Module, double Coefficient)> terms, bool transposed)
    {
        var expected = (double[])w.Clone();
        var magnitude = w.Select(Math.Abs).ToArray();
        foreach (var (m, c) in terms)
        {
            double[] a = RandomTensors.ToDoubles(m.A), b = RandomTensors.ToDoubles(m.B);
            double s = c * m.Scaling;
            long r = m.Rank, inF = m.InFeatures, outF = m.OutFeatures;
            for (long o = 0; o < outF; o++)
            {
                for (long i = 0; i < inF; i++)
                {
                    double sum = 0, abs = 0;
                    for (long k = 0; k < r; k++)
                    {
                        double p = b[o * r + k] * a[k * inF + i];
                        sum += p;
                        abs += Math.Abs(p);
                    }
                    long at = transposed ? i * cols + o : o * cols + i;
                    expected[at] += s * sum;
                    magnitude[at] += Math.Abs(s) * abs;
                }
            }
        }
        Assert.That(expected, Has.Length.EqualTo(rows * cols));
        return (expected, magnitude);
    }

    /// <summary>W scaled by l along rows (W[i, j]·l[i]) or columns (W[i, j]·l[j]); divided when <paramref name="inverse"/>.</summary>
    public static double[] Scale(double[] w, long cols, double[] l, bool rows, bool inverse = false)
    {
        var expected = new double[w.Length];
        for (long j = 0; j < w.Length; j++)
        {
            double f = l[rows ? j / cols : j % cols];
            expected[j] = inverse ? w[j] / f : w[j] * f;
        }
        return expected;
    }
}
