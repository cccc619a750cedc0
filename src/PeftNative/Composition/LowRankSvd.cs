using MathNet.Numerics.LinearAlgebra;

namespace PeftNative.Composition;

/// <summary>
/// A sum of low-rank products dW = sum_i B_i A_i truncated to rank k by working on the factors only:
/// thin QR of the stacked B = [B_1 ... B_n] (out x R) and of the stacked A^T (in x R), SVD of the
/// small R x R core R_B R_A^T, then B' = Q_B U_k S_k and A' = V_k^T Q_A^T (singular values on B,
/// PEFT's convention). Cost O((out + in) R^2 + R^3) instead of forming the out x in matrix.
/// Coefficients and scalings are folded into the B_i by the caller. Float64 throughout.
/// </summary>
public static class LowRankSvd
{
    /// <summary>The truncated sum.</summary>
    /// <param name="B">out x k, singular values folded in.</param>
    /// <param name="A">k x in, orthonormal rows.</param>
    /// <param name="SingularValues">Every singular value of the sum (at most min(out, in, R)), descending.</param>
    /// <param name="RelativeDroppedNorm">Frobenius norm of what truncation dropped over the sum's norm (0 when nothing was dropped).</param>
    public sealed record Result(Matrix<double> B, Matrix<double> A, IReadOnlyList<double> SingularValues, double RelativeDroppedNorm);

    /// <summary>Truncates sum_i B_i A_i to <paramref name="rank"/> (clamped to the sum's possible rank).</summary>
    /// <exception cref="ArgumentException">No terms, shapes that do not chain or disagree between terms, rank &lt; 1.</exception>
    public static Result Truncate(IReadOnlyList<(Matrix<double> B, Matrix<double> A)> terms, int rank)
    {
        ArgumentNullException.ThrowIfNull(terms);
        if (terms.Count == 0)
            throw new ArgumentException("at least one term is needed", nameof(terms));
        ArgumentOutOfRangeException.ThrowIfLessThan(rank, 1);
        int outFeatures = terms[0].B.RowCount, inFeatures = terms[0].A.ColumnCount;
        for (int i = 0; i < terms.Count; i++)
        {
            var (b, a) = terms[i];
            if (b.ColumnCount != a.RowCount)
                throw new ArgumentException($"term {i}: B is {b.RowCount}x{b.ColumnCount} but A is {a.RowCount}x{a.ColumnCount}; B's columns must equal A's rows", nameof(terms));
            if (b.RowCount != outFeatures || a.ColumnCount != inFeatures)
                throw new ArgumentException($"term {i}: update is {b.RowCount}x{a.ColumnCount}, term 0's is {outFeatures}x{inFeatures}", nameof(terms));
        }

        var stackedB = Matrix<double>.Build.DenseOfMatrixArray(Row(terms.Select(t => t.B)));
        var stackedAT = Matrix<double>.Build.DenseOfMatrixArray(Row(terms.Select(t => t.A.Transpose())));
        var (qB, rB) = ThinQr(stackedB);
        var (qA, rA) = ThinQr(stackedAT);
        var core = rB * rA.Transpose();
        var svd = core.Svd(computeVectors: true);
        var s = svd.S;
        int k = Math.Min(rank, s.Count);
        var uk = svd.U.SubMatrix(0, svd.U.RowCount, 0, k);
        var vtk = svd.VT.SubMatrix(0, k, 0, svd.VT.ColumnCount);
        var b2 = qB * uk * Matrix<double>.Build.DenseOfDiagonalVector(s.SubVector(0, k));
        var a2 = vtk * qA.Transpose();

        double total = 0, dropped = 0;
        for (int i = 0; i < s.Count; i++)
        {
            total += s[i] * s[i];
            if (i >= k)
                dropped += s[i] * s[i];
        }
        return new Result(b2, a2, s.ToArray(), total == 0 ? 0 : Math.Sqrt(dropped / total));
    }

    private static Matrix<double>[,] Row(IEnumerable<Matrix<double>> blocks)
    {
        var list = blocks.ToList();
        var row = new Matrix<double>[1, list.Count];
        for (int i = 0; i < list.Count; i++)
            row[0, i] = list[i];
        return row;
    }

    /// <summary>M = Q R with Q orthonormal columns; when M is wider than tall, Q = I and R = M.</summary>
    private static (Matrix<double> Q, Matrix<double> R) ThinQr(Matrix<double> m)
    {
        if (m.RowCount < m.ColumnCount)
            return (Matrix<double>.Build.DenseIdentity(m.RowCount), m);
        var qr = m.QR(MathNet.Numerics.LinearAlgebra.Factorization.QRMethod.Thin);
        return (qr.Q, qr.R);
    }
}
