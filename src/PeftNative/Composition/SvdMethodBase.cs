using System.Globalization;
using MathNet.Numerics.LinearAlgebra;

namespace PeftNative.Composition;

/// <summary>
/// What the SVD methods share: the target rank k (options.Rank, default the largest input rank as
/// PEFT's svd_rank), PEFT's optional svd_clamp, and the output B' = U_k S_k (out x k),
/// A' = V_k^T (k x in), lora_alpha = k (s = 1). The factors keep PEFT's A [k, in] / B [out, k]
/// orientation, so fan_in_fan_out and embeddings need nothing special. A module whose sum cannot
/// reach rank k (k &gt; min(out, in, sum r_i)) gets its largest possible rank, recorded in
/// rank_pattern, where PEFT would fail on the shape.
/// </summary>
internal abstract class SvdMethodBase(DType outputDType, int? rank, double? clamp) : LoraMethod
{
    private List<string>? _warnings;
    private bool _warnedRank;

    /// <summary>The target rank.</summary>
    protected int TargetRank { get; private set; }

    /// <inheritdoc />
    public override void Prepare(TargetAlignment inputs, List<string> warnings)
    {
        TargetRank = rank ?? MaxInputRank(inputs);
        _warnings = warnings;
    }

    /// <summary>Clamps if asked, notes a rank below the target, and adds the module.</summary>
    protected void Emit(string path, Matrix<double> b, Matrix<double> a, bool isEmbedding, LoraOutput output)
    {
        if (clamp is { } q)
            SvdClamp.Apply(b, a, q);
        int k = a.RowCount;
        if (k < TargetRank && !_warnedRank)
        {
            _warnedRank = true;
            _warnings?.Add(string.Create(CultureInfo.InvariantCulture,
                $"rank {TargetRank} exceeds what some modules' sums can have; those get their largest possible rank (first: {path} with rank {k})"));
        }
        Tensor? aOut = null;
        try
        {
            aOut = FactorMatrices.ToTensor(a, outputDType);
            var bOut = FactorMatrices.ToTensor(b, outputDType);
            output.Add(path, aOut, bOut, k, isEmbedding);
        }
        catch
        {
            aOut?.Dispose();
            throw;
        }
    }
}
