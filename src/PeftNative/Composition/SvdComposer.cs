namespace PeftNative.Composition;

/// <summary>
/// "svd": the exact sum dW = sum_i c_i s_i B_i A_i truncated to rank k, computed from the factors
/// only by <see cref="LowRankSvd"/> (QR of the stacked factors, SVD of the small core) — the
/// out x in matrix is never formed. PEFT's "svd" forms the dense sum with the weights w_i s_i
/// applied to get_delta_weight, which already holds s_i, so PEFT's result is
/// sum_i w_i s_i^2 B_i A_i (the scaling applied twice; harmless only when lora_alpha = r). This
/// method applies s_i once. See <see cref="SvdMethodBase"/> for the rank, clamp and output.
/// </summary>
internal sealed class SvdComposer(DType outputDType, int? rank, double? clamp) : SvdMethodBase(outputDType, rank, clamp)
{
    /// <inheritdoc />
    public override void ComposeModule(string path, IReadOnlyList<LoraInput> inputs, LoraOutput output)
    {
        var terms = inputs
            .Select(x => (B: FactorMatrices.ToMatrix(x.Module.B, x.Coefficient * x.Module.Scaling), A: FactorMatrices.ToMatrix(x.Module.A)))
            .ToList();
        var result = LowRankSvd.Truncate(terms, TargetRank);
        Emit(path, result.B, result.A, inputs[0].Module.IsEmbedding, output);
    }
}
