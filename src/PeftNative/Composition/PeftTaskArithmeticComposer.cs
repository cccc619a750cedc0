namespace PeftNative.Composition;

/// <summary>
/// PEFT's parameter-space combination types linear, ties, dare_linear, dare_ties and
/// magnitude_prune (add_weighted_adapter's _generalized_task_arithmetic_weighted_adapter, b.1 of
/// the merge-methods notes), exactly as PEFT computes them: with c_i = w_i s_i,
/// a_i = sign(c_i) sqrt|c_i| (sign +1 for c_i = 0) and b_i = sqrt|c_i|, the operator runs on the
/// stack of A matrices with weights a_i and, separately, on the stack of B matrices with weights
/// b_i: A' = F({A_i}, {a_i}), B' = F({B_i}, {b_i}); the output has r = lora_alpha = r (s = 1).
/// Weights are used as written. Ranks must be equal per module. Note that for linear
/// B'A' = sum_i c_i B_i A_i + sum_{i != j} b_i a_j B_i A_j: the cross terms are PEFT's behaviour
/// (huggingface/peft#3004), kept here for parity; "exact" and "svd" have none. DARE masks come from
/// the streams "lora_A" / "lora_B" of each term.
/// </summary>
internal sealed class PeftTaskArithmeticComposer(DType outputDType, MergeOperator op, double density, MajoritySignMethod sign, DareMaskSource masks, string methodName)
    : LoraMethod
{
    /// <inheritdoc />
    public override void Prepare(TargetAlignment inputs, List<string> warnings) => RequireEqualRanks(inputs, methodName);

    /// <inheritdoc />
    public override void ComposeModule(string path, IReadOnlyList<LoraInput> inputs, LoraOutput output)
    {
        int k = inputs.Count;
        var aWeights = new double[k];
        var bWeights = new double[k];
        for (int i = 0; i < k; i++)
        {
            double c = inputs[i].Coefficient * inputs[i].Module.Scaling;
            double root = Math.Sqrt(Math.Abs(c));
            aWeights[i] = c >= 0 ? root : -root;
            bWeights[i] = root;
        }
        var first = inputs[0].Module;
        double[] a = MergeOperatorRunner.Run(op, inputs.Select(x => FactorMatrices.ToDoubles(x.Module.A)).ToList(), aWeights, density, sign,
            (i, keep) => masks(path, "lora_A", inputs[i].Term, keep));
        double[] b = MergeOperatorRunner.Run(op, inputs.Select(x => FactorMatrices.ToDoubles(x.Module.B)).ToList(), bWeights, density, sign,
            (i, keep) => masks(path, "lora_B", inputs[i].Term, keep));
        Tensor? aOut = null;
        try
        {
            aOut = FactorMatrices.ToTensor(a, outputDType, first.A.Shape.ToArray());
            var bOut = FactorMatrices.ToTensor(b, outputDType, first.B.Shape.ToArray());
            output.Add(path, aOut, bOut, first.Rank, first.IsEmbedding);
        }
        catch
        {
            aOut?.Dispose();
            throw;
        }
    }
}
