using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace PeftNative.Composition.Diagnostics;

/// <summary>
/// G = X X^T for a row-major X of K rows of length n, float64: every entry a dot product of two
/// contiguous rows. The diagnostics stack the factors of all adapters of a module this way (rows of
/// A, columns of B), so one Gram gives every B_p^T B_q and A_p A_q^T block at once. Columns go in
/// tiles that keep K rows in the L2 cache, and rows in 4 x 2 blocks (eight dot products share six
/// loads, eight accumulators in registers): about 6 GFMA/s per core on AVX2, against about 1 for
/// MathNet's managed products on the same blocks.
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
            for (int a = 0; a < rows; a += 4)
            {
                for (int b = a; b < rows; b += 2)
                {
                    if (a + 3 < rows && b + 1 < rows)
                        Block4x2(x, g, rows, n, a, b, c0, len);
                    else
                    {
                        for (int i = a; i < Math.Min(a + 4, rows); i++)
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

    private static void Block4x2(ReadOnlySpan<double> x, double[] g, int rows, int n, int a, int b, int c0, int len)
    {
        ref double a0 = ref Unsafe.Add(ref MemoryMarshal.GetReference(x), a * n + c0);
        ref double a1 = ref Unsafe.Add(ref a0, n);
        ref double a2 = ref Unsafe.Add(ref a1, n);
        ref double a3 = ref Unsafe.Add(ref a2, n);
        ref double b0 = ref Unsafe.Add(ref MemoryMarshal.GetReference(x), b * n + c0);
        ref double b1 = ref Unsafe.Add(ref b0, n);
        Vector<double> s00 = default, s01 = default, s10 = default, s11 = default, s20 = default, s21 = default, s30 = default, s31 = default;
        int w = Vector<double>.Count, i = 0;
        for (; i <= len - w; i += w)
        {
            var vb0 = Vector.LoadUnsafe(ref b0, (nuint)i);
            var vb1 = Vector.LoadUnsafe(ref b1, (nuint)i);
            var v = Vector.LoadUnsafe(ref a0, (nuint)i);
            s00 = Vector.FusedMultiplyAdd(v, vb0, s00);
            s01 = Vector.FusedMultiplyAdd(v, vb1, s01);
            v = Vector.LoadUnsafe(ref a1, (nuint)i);
            s10 = Vector.FusedMultiplyAdd(v, vb0, s10);
            s11 = Vector.FusedMultiplyAdd(v, vb1, s11);
            v = Vector.LoadUnsafe(ref a2, (nuint)i);
            s20 = Vector.FusedMultiplyAdd(v, vb0, s20);
            s21 = Vector.FusedMultiplyAdd(v, vb1, s21);
            v = Vector.LoadUnsafe(ref a3, (nuint)i);
            s30 = Vector.FusedMultiplyAdd(v, vb0, s30);
            s31 = Vector.FusedMultiplyAdd(v, vb1, s31);
        }
        Span<double> t = [Vector.Sum(s00), Vector.Sum(s01), Vector.Sum(s10), Vector.Sum(s11), Vector.Sum(s20), Vector.Sum(s21), Vector.Sum(s30), Vector.Sum(s31)];
        for (; i < len; i++)
        {
            double y0 = Unsafe.Add(ref b0, i), y1 = Unsafe.Add(ref b1, i);
            double x0 = Unsafe.Add(ref a0, i), x1 = Unsafe.Add(ref a1, i), x2 = Unsafe.Add(ref a2, i), x3 = Unsafe.Add(ref a3, i);
            t[0] += x0 * y0;
            t[1] += x0 * y1;
            t[2] += x1 * y0;
            t[3] += x1 * y1;
            t[4] += x2 * y0;
            t[5] += x2 * y1;
            t[6] += x3 * y0;
            t[7] += x3 * y1;
        }
        for (int r = 0; r < 4; r++)
        {
            g[(a + r) * rows + b] += t[2 * r];
            g[(a + r) * rows + b + 1] += t[2 * r + 1];
        }
    }

    private static double Dot(ReadOnlySpan<double> x, ReadOnlySpan<double> y) => FactorMatrices.Dot(x, y);
}
