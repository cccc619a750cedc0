using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace PeftNative.Composition.Diagnostics;

/// <summary>
/// G = X X^T for a row-major X of K rows of length n, float64: every entry a dot product of two
/// contiguous rows. The diagnostics stack the factors of all adapters of a module this way (rows of
/// A, columns of B), so one Gram gives every B_p^T B_q and A_p A_q^T block at once. Columns go in
/// tiles that keep K rows in the L2 cache, and rows in 2 x 2 blocks (four dot products share each
/// load). MathNet's managed product took ~50 s for the 224 modules of 8 rank-16 adapters of a 7B
/// model on 2 cores; this takes a few seconds.
/// </summary>
internal static class GramMatrix
{
    /// <summary>Columns per pass: 128 rows x 256 doubles = 256 KiB.</summary>
    private const int Tile = 256;

    /// <summary>The K x K Gram matrix, row-major, symmetric.</summary>
    public static double[] Compute(ReadOnlySpan<double> x, int rows, int n)
    {
        if (x.Length != (long)rows * n)
            throw new ArgumentException($"expected {rows} x {n} values, got {x.Length}", nameof(x));
        var g = new double[rows * rows];
        for (int c0 = 0; c0 < n; c0 += Tile)
        {
            int len = Math.Min(Tile, n - c0);
            for (int a = 0; a < rows; a += 2)
            {
                for (int b = a; b < rows; b += 2)
                {
                    if (a + 1 < rows && b + 1 < rows)
                        Block2x2(x, g, rows, n, a, b, c0, len);
                    else
                    {
                        for (int i = a; i < Math.Min(a + 2, rows); i++)
                            for (int j = b; j < Math.Min(b + 2, rows); j++)
                                g[i * rows + j] += Dot(x.Slice(i * n + c0, len), x.Slice(j * n + c0, len));
                    }
                }
            }
        }
        for (int i = 0; i < rows; i++)
            for (int j = i + 1; j < rows; j++)
                g[j * rows + i] = g[i * rows + j];
        return g;
    }

    private static void Block2x2(ReadOnlySpan<double> x, double[] g, int rows, int n, int a, int b, int c0, int len)
    {
        ref double a0 = ref Unsafe.Add(ref MemoryMarshal.GetReference(x), a * n + c0);
        ref double a1 = ref Unsafe.Add(ref a0, n);
        ref double b0 = ref Unsafe.Add(ref MemoryMarshal.GetReference(x), b * n + c0);
        ref double b1 = ref Unsafe.Add(ref b0, n);
        var s00 = Vector<double>.Zero;
        var s01 = Vector<double>.Zero;
        var s10 = Vector<double>.Zero;
        var s11 = Vector<double>.Zero;
        int w = Vector<double>.Count, i = 0;
        for (; i <= len - w; i += w)
        {
            var va0 = Vector.LoadUnsafe(ref a0, (nuint)i);
            var va1 = Vector.LoadUnsafe(ref a1, (nuint)i);
            var vb0 = Vector.LoadUnsafe(ref b0, (nuint)i);
            var vb1 = Vector.LoadUnsafe(ref b1, (nuint)i);
            s00 = Vector.FusedMultiplyAdd(va0, vb0, s00);
            s01 = Vector.FusedMultiplyAdd(va0, vb1, s01);
            s10 = Vector.FusedMultiplyAdd(va1, vb0, s10);
            s11 = Vector.FusedMultiplyAdd(va1, vb1, s11);
        }
        double t00 = Vector.Sum(s00), t01 = Vector.Sum(s01), t10 = Vector.Sum(s10), t11 = Vector.Sum(s11);
        for (; i < len; i++)
        {
            double x0 = Unsafe.Add(ref a0, i), x1 = Unsafe.Add(ref a1, i), y0 = Unsafe.Add(ref b0, i), y1 = Unsafe.Add(ref b1, i);
            t00 += x0 * y0;
            t01 += x0 * y1;
            t10 += x1 * y0;
            t11 += x1 * y1;
        }
        g[a * rows + b] += t00;
        g[a * rows + b + 1] += t01;
        g[(a + 1) * rows + b] += t10;
        g[(a + 1) * rows + b + 1] += t11;
    }

    private static double Dot(ReadOnlySpan<double> x, ReadOnlySpan<double> y) => FactorMatrices.Dot(x, y);
}
