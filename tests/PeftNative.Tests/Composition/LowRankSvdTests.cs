using MathNet.Numerics.LinearAlgebra;
using PeftNative.Composition;

namespace PeftNative.Tests.Composition;

/// <summary>The factor-only truncated SVD against the dense route (form the sum, full SVD), float64.</summary>
public class LowRankSvdTests
{
    private static Matrix<double> Random(int rows, int cols, Random rng) =>
        Matrix<double>.Build.Dense(rows, cols, (_, _) => rng.NextDouble() * 2 - 1);

    private static List<(Matrix<double> B, Matrix<double> A)> Terms(int outF, int inF, int[] ranks, double[] coefficients, Random rng) =>
        ranks.Select((r, i) => (Random(outF, r, rng) * coefficients[i], Random(r, inF, rng))).ToList();

    private static Matrix<double> Dense(IEnumerable<(Matrix<double> B, Matrix<double> A)> terms) =>
        terms.Select(t => t.B * t.A).Aggregate((x, y) => x + y);

    [TestCase(37, 29, new[] { 3, 5, 2 })]
    [TestCase(8, 61, new[] { 4, 4, 4 })]   // R = 12 > out: the B side needs no QR
    [TestCase(50, 6, new[] { 7, 1 })]      // R = 8 > in
    [TestCase(1, 1, new[] { 1 })]
    public void FullRank_EqualsTheExactSum(int outF, int inF, int[] ranks)
    {
        var rng = new Random(outF * 1000 + inF);
        var terms = Terms(outF, inF, ranks, [0.7, -0.3, 1.25], rng);
        var result = LowRankSvd.Truncate(terms, ranks.Sum());
        var dense = Dense(terms);
        double err = (result.B * result.A - dense).FrobeniusNorm() / dense.FrobeniusNorm();
        Assert.That(err, Is.LessThan(1e-12));
        Assert.That(result.RelativeDroppedNorm, Is.LessThan(1e-7));
    }

    [TestCase(64, 48, new[] { 8, 8, 8 }, 5)]
    [TestCase(33, 70, new[] { 2, 9 }, 3)]
    public void Truncated_IsTheBestRankKApproximation(int outF, int inF, int[] ranks, int k)
    {
        var rng = new Random(k * 7919 + outF);
        var terms = Terms(outF, inF, ranks, [1.0, -0.6, 0.4], rng);
        var result = LowRankSvd.Truncate(terms, k);
        var dense = Dense(terms);
        var svd = dense.Svd(computeVectors: true);
        var best = svd.U.SubMatrix(0, outF, 0, k) * Matrix<double>.Build.DenseOfDiagonalVector(svd.S.SubVector(0, k)) * svd.VT.SubMatrix(0, k, 0, inF);
        using (Assert.EnterMultipleScope())
        {
            Assert.That(result.B.ColumnCount, Is.EqualTo(k));
            Assert.That(result.A.RowCount, Is.EqualTo(k));
            for (int i = 0; i < Math.Min(ranks.Sum(), Math.Min(outF, inF)); i++)
                Assert.That(result.SingularValues[i], Is.EqualTo(svd.S[i]).Within(1e-10 * svd.S[0]), $"singular value {i}");
            Assert.That((result.B * result.A - best).FrobeniusNorm(), Is.LessThan(1e-9 * dense.FrobeniusNorm()));
            // A's rows are orthonormal (the singular values live on B, as PEFT stores them)
            Assert.That((result.A * result.A.Transpose() - Matrix<double>.Build.DenseIdentity(k)).FrobeniusNorm(), Is.LessThan(1e-10));
            double droppedDense = Math.Sqrt(svd.S.Skip(k).Sum(x => x * x)) / dense.FrobeniusNorm();
            Assert.That(result.RelativeDroppedNorm, Is.EqualTo(droppedDense).Within(1e-9));
        }
    }

    [Test]
    public void BadShapes_AreRefused()
    {
        var rng = new Random(3);
        Assert.That(() => LowRankSvd.Truncate([], 1), Throws.ArgumentException);
        Assert.That(() => LowRankSvd.Truncate([(Random(4, 2, rng), Random(3, 5, rng))], 1), Throws.ArgumentException.With.Message.Contains("B's columns"));
        Assert.That(() => LowRankSvd.Truncate([(Random(4, 2, rng), Random(2, 5, rng)), (Random(4, 2, rng), Random(2, 6, rng))], 1),
            Throws.ArgumentException.With.Message.Contains("term 1"));
        Assert.That(() => LowRankSvd.Truncate([(Random(4, 2, rng), Random(2, 5, rng))], 0), Throws.TypeOf<ArgumentOutOfRangeException>());
    }
}
