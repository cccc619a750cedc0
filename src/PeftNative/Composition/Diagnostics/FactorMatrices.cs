using MathNet.Numerics.LinearAlgebra;

namespace PeftNative.Composition.Diagnostics;

/// <summary>
/// Adapter tensors as float64 MathNet matrices for the diagnostics. A row-major [rows, cols]
/// tensor's bytes, read as column-major, are its transpose: <see cref="Transposed"/> builds that
/// (cols x rows) matrix with one widening pass and no reordering.
/// </summary>
internal static class FactorMatrices
{
    /// <summary>The transpose of a 2-D kernel-dtype tensor, widened to float64.</summary>
    public static Matrix<double> Transposed(Tensor tensor)
    {
        if (tensor.Rank != 2)
            throw new ArgumentException($"expected a 2-D tensor, got {tensor.ShapeText}", nameof(tensor));
        int rows = checked((int)tensor.Shape[0]), cols = checked((int)tensor.Shape[1]);
        return Matrix<double>.Build.Dense(cols, rows, Composition.FactorMatrices.ToDoubles(tensor));
    }

    /// <summary>Frobenius inner product sum_ij x_ij y_ij of two matrices of one shape.</summary>
    public static double Inner(Matrix<double> x, Matrix<double> y)
    {
        var a = x.AsColumnMajorArray() ?? x.ToColumnMajorArray();
        var b = y.AsColumnMajorArray() ?? y.ToColumnMajorArray();
        return Dot(a, b);
    }

    /// <summary>Dot product of two equal-length vectors.</summary>
    public static double Dot(ReadOnlySpan<double> a, ReadOnlySpan<double> b)
    {
        if (a.Length != b.Length)
            throw new ArgumentException("lengths differ");
        double s0 = 0, s1 = 0;
        int i = 0;
        // two accumulators: the loop is latency-bound otherwise
        for (; i + 1 < a.Length; i += 2)
        {
            s0 += a[i] * b[i];
            s1 += a[i + 1] * b[i + 1];
        }
        if (i < a.Length)
            s0 += a[i] * b[i];
        return s0 + s1;
    }
}
