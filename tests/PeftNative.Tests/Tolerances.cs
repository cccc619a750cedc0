using System.Text;

namespace PeftNative.Tests;

/// <summary>
/// Every tolerance of the kernel tests, in one place. An element passes when
/// <c>|got - ref| &lt;= atol + rtol * |ref|</c> where <c>ref</c> is the float64 reference
/// already rounded to the output dtype, and
/// <list type="bullet">
/// <item>f32 output: rtol = <see cref="F32Rtol"/> · √terms; atol = rtol · magnitude, where magnitude
/// is Σ|term| of that element (so cancellation to a tiny result still gets the f32
/// accumulation error of the terms it came from).</item>
/// <item>f16 / bf16 output: one ulp of the output dtype at |ref| (the backend rounds its f32
/// accumulator once, the reference rounds a float64 one, so they may land one ulp apart), plus
/// the same f32 accumulation atol.</item>
/// </list>
/// Plus a whole-tensor normalised error ‖got − ref‖₂ / ‖ref‖₂ &lt;= <see cref="NormalisedBound"/>.
/// NaN must stay NaN and ±Inf must match exactly. Terms: k for affine, total rank + 1 for
/// merges, 1 for scales.
/// </summary>
public static class Tolerances
{
    /// <summary>Relative tolerance of f32 results per √term.</summary>
    public const double F32Rtol = 1e-5;

    /// <summary>Whole-tensor normalised error bound by output dtype.</summary>
    public static double NormalisedBound(DType dtype, int terms) => dtype switch
    {
        DType.F32 => 2e-6 * Math.Sqrt(Math.Max(1, terms)),
        DType.F16 => 1e-3,
        DType.BF16 => 8e-3,
        _ => throw new ArgumentOutOfRangeException(nameof(dtype)),
    };

    /// <summary>The spacing of the dtype at |v| (subnormal spacing below the normal range).</summary>
    public static double Ulp(DType dtype, double v)
    {
        (int mantissaBits, int minExponent) = dtype switch
        {
            DType.F32 => (23, -126),
            DType.F16 => (10, -14),
            DType.BF16 => (7, -126),
            _ => throw new ArgumentOutOfRangeException(nameof(dtype)),
        };
        double a = Math.Abs(v);
        int e = a == 0 ? minExponent : Math.Max(Math.ILogB(a), minExponent);
        return Math.ScaleB(1.0, e - mantissaBits);
    }

    /// <summary>Allowed |got - ref| for one element.</summary>
    public static double Allowed(DType dtype, double reference, double magnitude, int terms)
    {
        double rtol = F32Rtol * Math.Sqrt(Math.Max(1, terms));
        double atol = rtol * magnitude;
        return dtype == DType.F32
            ? atol + rtol * Math.Abs(reference)
            : atol + Ulp(dtype, reference);
    }

    /// <summary>
    /// Compares a kernel's output with the reference element by element and as a whole.
    /// <paramref name="magnitude"/> (Σ|term| per element) may be null: |ref| is used then.
    /// </summary>
    public static void AssertClose(string context, Tensor got, double[] expected, double[]? magnitude, int terms, long columns = 0)
    {
        ArgumentNullException.ThrowIfNull(got);
        ArgumentNullException.ThrowIfNull(expected);
        Assert.That(got.ElementCount, Is.EqualTo(expected.Length), context);
        var failures = new StringBuilder();
        int failed = 0;
        double errSq = 0, refSq = 0;
        double rtol = F32Rtol * Math.Sqrt(Math.Max(1, terms));
        bool f32 = got.DType == DType.F32;
        var actual = RandomTensors.ToDoubles(got);
        for (long j = 0; j < expected.Length; j++)
        {
            double e = expected[j];
            double g = actual[j];
            string? problem = null;
            if (double.IsNaN(e))
            {
                if (!double.IsNaN(g))
                    problem = "expected NaN";
            }
            else if (double.IsInfinity(e))
            {
                if (g != e)
                    problem = "expected an infinity";
            }
            else if (double.IsNaN(g) || double.IsInfinity(g))
            {
                problem = "non-finite result (unwritten poisoned element?)";
            }
            else
            {
                double mag = magnitude?[j] ?? Math.Abs(e);
                double allowed = f32 ? rtol * (mag + Math.Abs(e)) : rtol * mag + Ulp(got.DType, e);
                double diff = Math.Abs(g - e);
                if (!(diff <= allowed))
                    problem = $"|diff| {diff:G6} > allowed {allowed:G6}";
                errSq += (g - e) * (g - e);
                refSq += e * e;
            }
            if (problem is not null)
            {
                if (failed < 8)
                {
                    string where = columns > 0 ? $" (row {j / columns}, col {j % columns})" : "";
                    failures.AppendLine(CultureInvariant($"  index {j}{where}: expected {e:R} actual {g:R} ({problem})"));
                }
                failed++;
            }
        }
        if (failed > 0)
            Assert.Fail($"{context}: {failed} of {expected.Length} elements out of tolerance (output {got.DType.ShortName()}, {terms} terms):\n{failures}");
        if (refSq > 0)
        {
            double nrm = Math.Sqrt(errSq / refSq);
            double bound = NormalisedBound(got.DType, terms);
            if (!(nrm <= bound))
                Assert.Fail($"{context}: normalised error {nrm:G6} > {bound:G6} (output {got.DType.ShortName()}, {terms} terms)");
        }
    }

    /// <summary>Invariant formatting of an interpolated string.</summary>
    public static string CultureInvariant(FormattableString s)
    {
        ArgumentNullException.ThrowIfNull(s);
        return s.ToString(System.Globalization.CultureInfo.InvariantCulture);
    }
}
