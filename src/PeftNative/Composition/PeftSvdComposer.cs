using MathNet.Numerics.LinearAlgebra;

namespace PeftNative.Composition;

/// <summary>
/// PEFT's dense SVD combination types ties_svd, dare_linear_svd, dare_ties_svd and
/// magnitude_prune_svd (_svd_generalized_task_arithmetic_weighted_adapter, b.1 of the merge-methods
/// notes): the dense updates D_i = s_i B_i A_i (out x in), M = F({D_i}, {w_i}) with PEFT's operator
/// F, then the SVD of M truncated to rank k: B' = U_k S_k, A' = V_k^T (see
/// <see cref="SvdMethodBase"/>). Departure from PEFT: PEFT passes the weights w_i s_i to the
/// operator although D_i already holds s_i, so its M carries s_i twice; here the weights are w_i
/// (the scaling once). For all-equal scalings PEFT's result is s times this one (TIES, DARE and
/// magnitude pruning are linear in the weights once the masks are fixed). DARE masks come from
/// the stream "delta" of each term, indexed in the out x in orientation of B @ A.
/// </summary>
internal sealed class PeftSvdComposer(DType outputDType, int? rank, double? clamp, MergeOperator op, double density, MajoritySignMethod sign, DareMaskSource masks)
    : SvdMethodBase(outputDType, rank, clamp)
{
    /// <inheritdoc />
    public override void ComposeModule(string path, IReadOnlyList<LoraInput> inputs, LoraOutput output)
    {
        var first = inputs[0].Module;
        int outF = checked((int)first.OutFeatures), inF = checked((int)first.InFeatures);
        var deltas = inputs.Select(x => FactorMatrices.DenseUpdate(x.Module.B, x.Module.A, x.Module.Scaling)).ToList();
        double[] weights = [.. inputs.Select(x => x.Coefficient)];
        double[] merged = MergeOperatorRunner.Run(op, deltas, weights, density, sign, (i, keep) => masks(path, "delta", inputs[i].Term, keep));
        var (b, a) = Truncate(Matrix<double>.Build.DenseOfRowMajor(outF, inF, merged), TargetRank);
        Emit(path, b, a, first.IsEmbedding, output);
    }

    /// <summary>
    /// The best rank-k factors of <paramref name="m"/> by a thin SVD (QR first, so only the
    /// min(out, in) singular vectors PEFT keeps are formed, not PEFT's full_matrices U and Vh).
    /// </summary>
    internal static (Matrix<double> B, Matrix<double> A) Truncate(Matrix<double> m, int rank)
    {
        bool transposed = m.RowCount < m.ColumnCount;
        var tall = transposed ? m.Transpose() : m;
        var qr = tall.QR(MathNet.Numerics.LinearAlgebra.Factorization.QRMethod.Thin);
        var svd = qr.R.Svd(computeVectors: true);
        int k = Math.Min(rank, svd.S.Count);
        var u = qr.Q * svd.U.SubMatrix(0, svd.U.RowCount, 0, k);          // tall x k
        var vt = svd.VT.SubMatrix(0, k, 0, svd.VT.ColumnCount);               // k x short
        var s = Matrix<double>.Build.DenseOfDiagonalVector(svd.S.SubVector(0, k));
        // m = U S V^T; for the transposed route m^T = U S V^T, so m = V S U^T.
        return transposed ? (vt.Transpose() * s, u.Transpose()) : (u * s, vt);
    }
}
