using PeftNative.Adapters;
using PeftNative.Composition;
using PeftNative.Composition.Diagnostics;
using static PeftNative.Tests.Composition.DiagnosticsTestAdapters;

namespace PeftNative.Tests.Composition;

/// <summary>
/// The diagnostics on real and reference adapter pairs: figures checked against dense float64
/// references, and what the A-factor heuristic says (with the measured cross-term error that
/// justifies it).
/// </summary>
public class DiagnosticsRealAdapterTests
{
    private static CompositionDiagnosticsReport Average(PeftAdapter x, PeftAdapter y) =>
        CompositionDiagnostics.Analyze(CoefficientNormalization.Apply(ModuleExpression.Parse("0.5*x + 0.5*y").Expand(), rawWeights: false),
            new Dictionary<string, PeftAdapter> { ["x"] = x, ["y"] = y });

    /// <summary>Dense check of one module's norms, cosine and paper error.</summary>
    private static void AssertModuleAgainstDense(CompositionDiagnosticsReport report, PeftAdapter x, PeftAdapter y, string path)
    {
        var mx = x.LoraModules[path];
        var my = y.LoraModules[path];
        var ux = DenseUpdate(mx);
        var uy = DenseUpdate(my);
        var exact = AddScaled(Scale(ux, 0.5), uy, 0.5);
        var paper = MatMul(AddScaled(Scale(FromTensor(mx.B), 0.5 * mx.Scaling), FromTensor(my.B), 0.5 * my.Scaling),
            AddScaled(Scale(FromTensor(mx.A), 0.5), FromTensor(my.A), 0.5));
        var module = report.Similarity.Modules.Single(m => m.Module == path);
        var error = report.CrossTermErrors.Single(e => e.Module == path);
        using (Assert.EnterMultipleScope())
        {
            Assert.That(module.Norms[0], Is.EqualTo(Norm(ux)).Within(1e-9 * Norm(ux)), $"{path} norm x");
            Assert.That(module.Norms[1], Is.EqualTo(Norm(uy)).Within(1e-9 * Norm(uy)), $"{path} norm y");
            Assert.That(module.Cosines[0][1], Is.EqualTo(Inner(ux, uy) / (Norm(ux) * Norm(uy))).Within(1e-9), $"{path} cosine");
            Assert.That(error.RelativeError, Is.EqualTo(Norm(AddScaled(paper, exact, -1)) / Norm(exact)).Within(1e-7), $"{path} paper error");
        }
    }

    [Test]
    public void SmolLm_5And100Epochs_AFactorsAreUnrelated_SoThePaperMethodWarns()
    {
        // The brief expected no warning ("same run"), but the two folders are two training runs
        // (num_epochs 5 and 100 in their model cards), and their A factors are uncorrelated:
        // mean cosine ~0.0002 over 60 modules, B cosines ~0 too. The paper update of 0.5/0.5 is
        // then ~0.56 (relative Frobenius) from the exact sum, so the warning is right.
        using var x = PeftAdapter.Load(Fixtures.RealAdapter("smollm135m-medical-lora-5ep"));
        using var y = PeftAdapter.Load(Fixtures.RealAdapter("smollm135m-medical-lora-100ep"));
        var report = Average(x, y);
        var alignment = report.AFactorAlignments.Single();
        using (Assert.EnterMultipleScope())
        {
            Assert.That(alignment.Modules, Is.EqualTo(60));
            Assert.That(Math.Abs(alignment.MeanCosine!.Value), Is.LessThan(0.05));
            Assert.That(alignment.LooksUnrelated, Is.True);
            Assert.That(report.OverallCrossTermError, Is.GreaterThan(0.4));
            Assert.That(report.Warnings, Has.Count.EqualTo(1));
            // the updates themselves are related (same task): overall cosine ~0.19, far above noise
            Assert.That(report.Similarity.Cosine("x", "y"), Is.InRange(0.1, 0.3));
        }
        AssertModuleAgainstDense(report, x, y, "model.layers.0.self_attn.q_proj");
        AssertModuleAgainstDense(report, x, y, "model.layers.17.self_attn.v_proj");
    }

    [Test]
    public void Gpt2Tiny_LoraAAndB_AreIndependentRandomAdapters_SoThePaperMethodWarns()
    {
        // Reference fixtures: r = 4 random LoRAs with independent A (mean A cosine ~0.02 over 8 modules).
        using var x = PeftAdapter.Load(Fixtures.ReferenceModel("gpt2-tiny/adapters/lora_a"));
        using var y = PeftAdapter.Load(Fixtures.ReferenceModel("gpt2-tiny/adapters/lora_b"));
        var report = Average(x, y);
        using (Assert.EnterMultipleScope())
        {
            Assert.That(report.AFactorAlignments.Single().MeanCosine, Is.InRange(-0.1, 0.1));
            Assert.That(report.AFactorAlignments.Single().LooksUnrelated, Is.True);
            Assert.That(report.Warnings, Has.Count.EqualTo(1));
            Assert.That(report.OverallCrossTermError, Is.InRange(0.5, 0.9));
        }
        foreach (string path in x.LoraModules.Keys)
            AssertModuleAgainstDense(report, x, y, path);
    }

    [Test]
    public void AnAdapterWithItself_IsExactAndDoesNotWarn()
    {
        using var x = PeftAdapter.Load(Fixtures.RealAdapter("smollm135m-medical-lora-5ep"));
        using var y = PeftAdapter.Load(Fixtures.RealAdapter("smollm135m-medical-lora-5ep"));
        var report = Average(x, y);
        using (Assert.EnterMultipleScope())
        {
            Assert.That(report.AFactorAlignments.Single().MeanCosine, Is.EqualTo(1.0).Within(1e-12));
            Assert.That(report.OverallCrossTermError, Is.LessThan(1e-6));
            Assert.That(report.Similarity.Cosine("x", "y"), Is.EqualTo(1.0).Within(1e-12));
            Assert.That(report.Warnings, Is.Empty);
        }
    }
}
