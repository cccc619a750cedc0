namespace PeftNative.Tests.Composition.Operators;

/// <summary>
/// Runs an operator into a NaN-poisoned output with guard elements on both sides, checks the guards,
/// and compares with the reference as |got - ref| &lt;= atol + rtol |ref|, naming the case and index.
/// </summary>
internal static class OperatorHarness
{
    private const int Guard = 5;
    private const double GuardValue = -7.25e11;

    public delegate void Operator(Span<double> result);

    /// <summary>The operator's output (guards checked, poison gone from every element).</summary>
    public static double[] Run(string context, int length, Operator op)
    {
        var buffer = new double[length + 2 * Guard];
        buffer.AsSpan().Fill(GuardValue);
        buffer.AsSpan(Guard, length).Fill(double.NaN);
        op(buffer.AsSpan(Guard, length));
        for (int g = 0; g < Guard; g++)
        {
            if (BitConverter.DoubleToInt64Bits(buffer[g]) != BitConverter.DoubleToInt64Bits(GuardValue)
                || BitConverter.DoubleToInt64Bits(buffer[Guard + length + g]) != BitConverter.DoubleToInt64Bits(GuardValue))
                Assert.Fail($"{context}: wrote outside the result (guard {g})");
        }
        return buffer.AsSpan(Guard, length).ToArray();
    }

    public static void AssertClose(string context, double[] expected, double[] got, double atol, double rtol)
    {
        Assert.That(got, Has.Length.EqualTo(expected.Length), context);
        for (int j = 0; j < expected.Length; j++)
        {
            double e = expected[j], g = got[j];
            if (double.IsNaN(g) || Math.Abs(g - e) > atol + rtol * Math.Abs(e))
                Assert.Fail($"{context}: index {j} of {expected.Length}: expected {e:R}, got {g:R}");
        }
    }

    /// <summary>Random non-zero values; quantized ones take magnitudes from {0.25, 0.5, 0.75, 1}, so equal magnitudes and zero sums occur.</summary>
    public static double[] Values(Random rng, int length, bool quantized)
    {
        var v = new double[length];
        for (int j = 0; j < length; j++)
            v[j] = quantized ? (rng.Next(4) + 1) * 0.25 * (rng.Next(2) == 0 ? 1 : -1) : RandomTensors.NextSigned(rng);
        return v;
    }

    /// <summary>Non-zero weights in [-1.5, 1.5] with at least one negative when there are two or more.</summary>
    public static double[] Weights(Random rng, int count)
    {
        var w = new double[count];
        for (int i = 0; i < count; i++)
            w[i] = RandomTensors.NextSigned(rng, 0.1, 1.5);
        if (count > 1)
            w[rng.Next(count)] = -Math.Abs(w[0]) - 0.05;
        return w;
    }

    public static bool[] Mask(Random rng, int length, double density)
    {
        var m = new bool[length];
        for (int j = 0; j < length; j++)
            m[j] = rng.NextDouble() < density;
        return m;
    }

    public static ReadOnlyMemory<double>[] Memories(double[][] t) => t.Select(x => new ReadOnlyMemory<double>(x)).ToArray();

    public static ReadOnlyMemory<bool>[] Memories(bool[][] m) => m.Select(x => new ReadOnlyMemory<bool>(x)).ToArray();
}
