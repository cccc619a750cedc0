using System.Globalization;
using PeftNative.Backends;

namespace PeftNative.Composition;

/// <summary>
/// The paper's LoRA arithmetic (Zhang et al. 2023; DESIGN.md section 1), in parameter space:
/// <list type="bullet">
/// <item>several terms: A = sum_i |c_i| A_i, B = sum_i c_i B_i (negation lives on B);</item>
/// <item>one term c * m: A = |c| A, B = sign(c) B, so the update becomes exactly c * dW.</item>
/// </list>
/// Both sums are one <see cref="IKernelBackend.AffineReportingNonFinite"/> pass each (f32
/// accumulation, each input read once, the output written once past the caches and checked for
/// NaN/Inf on the way) — the fast path. Ranks must agree per module. Scalings: the paper's code assumes
/// every input has the same s = alpha / r. When all inputs share use_rslora and, at every module,
/// the same s, the output keeps that alpha (and rsLoRA). Otherwise each s_i is folded into its B_i
/// (B = sum_i c_i s_i B_i) and the output has lora_alpha = r, s = 1, use_rslora false — the same
/// update the paper's formula gives when the inputs' scalings are applied first. A module missing
/// from an input counts as A = 0, B = 0 there.
/// </summary>
internal sealed class PaperLoraComposer(IKernelBackend backend, DType outputDType) : LoraMethod
{
    private bool _keepScalings;
    private bool _singleTerm;

    /// <summary>True when the output keeps the inputs' rsLoRA scaling.</summary>
    public bool OutputUsesRsLora { get; private set; }

    /// <inheritdoc />
    public override void Prepare(TargetAlignment inputs, List<string> warnings)
    {
        RequireEqualRanks(inputs, "paper");
        _singleTerm = inputs.Terms.Count == 1;
        var rsFlags = inputs.AdapterNames.Select(n => inputs.AdapterNamed(n).Config.UseRsLora).Distinct().ToList();
        string? differing = null;
        foreach (string path in inputs.ModulePaths)
        {
            var m = inputs.Lora(path);
            var other = m.FirstOrDefault(x => x.Module.Scaling != m[0].Module.Scaling);
            if (other.Module is not null)
            {
                differing = string.Create(CultureInfo.InvariantCulture,
                    $"at {path} '{m[0].Adapter}' has s = {m[0].Module.Scaling:R} and '{other.Adapter}' s = {other.Module.Scaling:R}");
                break;
            }
        }
        _keepScalings = rsFlags.Count == 1 && differing is null;
        OutputUsesRsLora = _keepScalings && rsFlags[0];
        if (!_keepScalings)
        {
            string why = rsFlags.Count > 1 ? "the inputs disagree on use_rslora" : $"the inputs' scalings differ ({differing})";
            warnings.Add($"scalings folded: {why}, so each B_i was multiplied by its s_i before combining and the output has lora_alpha = r (s = 1, use_rslora false)");
        }
    }

    /// <inheritdoc />
    public override bool ModulesInParallel => true;

    /// <inheritdoc />
    public override void ComposeModule(string path, IReadOnlyList<LoraInput> inputs, LoraOutput output)
    {
        int k = inputs.Count;
        var aInputs = new Tensor[k];
        var bInputs = new Tensor[k];
        var aWeights = new float[k];
        var bWeights = new float[k];
        for (int i = 0; i < k; i++)
        {
            var x = inputs[i];
            aInputs[i] = x.Module.A;
            bInputs[i] = x.Module.B;
            aWeights[i] = (float)Math.Abs(x.Coefficient);
            double b = _singleTerm ? Math.Sign(x.Coefficient) : x.Coefficient;
            bWeights[i] = (float)(_keepScalings ? b : b * x.Module.Scaling);
        }
        var first = inputs[0].Module;
        Tensor? a = null, bOut = null;
        try
        {
            a = UninitializedTensor.Allocate(outputDType, first.A.Shape.ToArray());
            // Constant -0: the exact additive identity, so a single term with weight +-1 copies or
            // negates bit for bit (-0 included).
            if (AffineSum.RunReportingNonFinite(backend, aInputs, aWeights, -0f, a))
                NonFiniteCheck.Require(a, path, LoraOutput.FactorName(first.IsEmbedding, 'A'), output.AllowNonFinite);
            bOut = UninitializedTensor.Allocate(outputDType, first.B.Shape.ToArray());
            if (AffineSum.RunReportingNonFinite(backend, bInputs, bWeights, -0f, bOut))
                NonFiniteCheck.Require(bOut, path, LoraOutput.FactorName(first.IsEmbedding, 'B'), output.AllowNonFinite);
        }
        catch
        {
            a?.Dispose();
            bOut?.Dispose();
            throw;
        }
        double alpha = _keepScalings ? first.Alpha : first.Rank;
        output.Add(path, a, bOut, alpha, first.IsEmbedding, finiteChecked: true);
    }
}
