using MathNet.Numerics.LinearAlgebra;

namespace PeftNative.Composition;

/// <summary>
/// PEFT's svd_clamp (src/peft/tuners/lora/model.py, _svd_generalized_task_arithmetic_weighted_adapter):
/// h = torch.quantile(cat(U.flatten(), Vh.flatten()), q) over the signed entries of both truncated
/// factors (U with the singular values folded in), then both are clamped to [-h, h]. torch.quantile's
/// default "linear" interpolation: position q (n - 1) in the sorted values.
/// </summary>
internal static class SvdClamp
{
    /// <summary>Clamps <paramref name="b"/> and <paramref name="a"/> in place.</summary>
    public static void Apply(Matrix<double> b, Matrix<double> a, double quantile)
    {
        double[] all = [.. b.Enumerate(), .. a.Enumerate()];
        double h = Quantile(all, quantile);
        // torch.clamp(x, -h, h) = min(max(x, -h), h), also for h < 0 (a quantile below the median).
        b.MapInplace(v => Math.Min(Math.Max(v, -h), h));
        a.MapInplace(v => Math.Min(Math.Max(v, -h), h));
    }

    /// <summary>torch.quantile(values, q) with linear interpolation (sorts <paramref name="values"/>).</summary>
    internal static double Quantile(double[] values, double q)
    {
        Array.Sort(values);
        double pos = q * (values.Length - 1);
        int lo = (int)Math.Floor(pos), hi = (int)Math.Ceiling(pos);
        return values[lo] + ((values[hi] - values[lo]) * (pos - lo));
    }
}
