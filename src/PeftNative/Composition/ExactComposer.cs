namespace PeftNative.Composition;

/// <summary>
/// The exact weighted sum of the updates, dW = sum_i c_i s_i B_i A_i, represented without loss as
/// one LoRA of rank R = sum_i r_i with scaling 1 (lora_alpha = R, use_rslora false):
/// <list type="bullet">
/// <item>"exact": B = [c_1 s_1 B_1 ... c_k s_k B_k], A = [A_1; ...; A_k] (DESIGN.md section 1);</item>
/// <item>PEFT "cat": A = [w_1 s_1 A_1; ...; w_k s_k A_k], B = [B_1 ... B_k] (add_weighted_adapter's
/// layout, b.1 of the merge-methods notes).</item>
/// </list>
/// Ranks may differ, and so may the rank per module (modules missing from some inputs): the output
/// config then carries rank_pattern / alpha_pattern. PEFT's cat instead allocates the largest total
/// rank everywhere and leaves the tail zero; the update is the same.
/// </summary>
internal sealed class ExactComposer(DType outputDType, bool weightsOnA) : LoraMethod
{
    /// <inheritdoc />
    public override void ComposeModule(string path, IReadOnlyList<LoraInput> inputs, LoraOutput output)
    {
        var first = inputs[0].Module;
        int inF = checked((int)first.InFeatures), outF = checked((int)first.OutFeatures);
        int total = inputs.Sum(x => x.Module.Rank);
        var a = new double[checked(total * inF)];
        var b = new double[checked(outF * total)];
        int offset = 0;
        foreach (var x in inputs)
        {
            int r = x.Module.Rank;
            double weight = x.Coefficient * x.Module.Scaling;
            FactorMatrices.CopyTo(x.Module.A, a.AsSpan(offset * inF, r * inF), weightsOnA ? weight : 1.0);
            double[] bi = FactorMatrices.ToDoubles(x.Module.B, weightsOnA ? 1.0 : weight);
            for (int o = 0; o < outF; o++)
                bi.AsSpan(o * r, r).CopyTo(b.AsSpan((o * total) + offset, r));
            offset += r;
        }
        Tensor? aOut = null;
        try
        {
            aOut = FactorMatrices.ToTensor(a, outputDType, total, inF);
            var bOut = FactorMatrices.ToTensor(b, outputDType, outF, total);
            output.Add(path, aOut, bOut, total, first.IsEmbedding);
        }
        catch
        {
            aOut?.Dispose();
            throw;
        }
    }
}
