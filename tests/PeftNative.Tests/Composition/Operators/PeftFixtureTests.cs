using PeftNative.Composition;
using PeftNative.Composition.Operators;
using PeftNative.SafeTensors;
using static PeftNative.Tests.Composition.Operators.OperatorHarness;

namespace PeftNative.Tests.Composition.Operators;

/// <summary>
/// PEFT's own merge_utils results (reference-models/merge-tensors: three [6, 5] F32 tensors, weights
/// 0.5 / 1.0 / -0.3, DARE masks m0..m2 in masks.safetensors). Computed here in float64 from the F32
/// inputs; PEFT computed in float32, so each element may differ by float32 rounding of its terms:
/// |got - ref| &lt;= 1e-6 (|ref| + sum_i |c_i T_i| / density). Pruned positions must match exactly (zero
/// where PEFT has zero).
/// </summary>
public class PeftFixtureTests
{
    private static readonly double[] Weights = [0.5, 1.0, -0.3];

    private static double[] Load(string file, string name)
    {
        using var f = SafetensorsFile.Open(Fixtures.ReferenceModel(Path.Combine("merge-tensors", file)));
        var t = f.GetTensor(name);
        Assert.That(t.DType, Is.EqualTo(DType.F32), $"{file}:{name}");
        Assert.That(t.ElementCount, Is.EqualTo(30), $"{file}:{name}");
        var span = t.AsSpan<float>();
        var result = new double[span.Length];
        for (int j = 0; j < span.Length; j++)
            result[j] = span[j];
        return result;
    }

    private static double[][] Inputs() => [Load("inputs.safetensors", "t0"), Load("inputs.safetensors", "t1"), Load("inputs.safetensors", "t2")];

    private static bool[][] Masks() => new[] { "m0", "m1", "m2" }.Select(m =>
    {
        var v = Load("masks.safetensors", m);
        Assert.That(v.All(x => x is 0 or 1), $"{m} is a 0/1 mask");
        return v.Select(x => x != 0).ToArray();
    }).ToArray();

    private static void AssertMatchesPeft(string file, double[] got, double[][] t, double density)
    {
        var expected = Load(file, "result");
        for (int j = 0; j < expected.Length; j++)
        {
            double magnitude = 0;
            for (int i = 0; i < t.Length; i++)
                magnitude += Math.Abs(Weights[i] * t[i][j]) / Math.Min(density, 1);
            double allowed = 1e-6 * (Math.Abs(expected[j]) + magnitude);
            if (!(Math.Abs(got[j] - expected[j]) <= allowed))
                Assert.Fail($"{file}: index {j}: PEFT {expected[j]:R}, got {got[j]:R} (allowed {allowed:E2})");
            Assert.That(got[j] == 0, Is.EqualTo(expected[j] == 0), $"{file}: index {j}: zero pattern");
        }
    }

    [Test]
    public void TaskArithmetic()
    {
        var t = Inputs();
        var got = Run("task_arithmetic", 30, r => TaskVectorOperators.TaskArithmetic(Memories(t), Weights, r));
        AssertMatchesPeft("task_arithmetic.safetensors", got, t, 1);
    }

    [Test]
    public void MagnitudePrune_Density04()
    {
        var t = Inputs();
        var got = Run("magnitude_prune", 30, r => TaskVectorOperators.MagnitudePrune(Memories(t), Weights, 0.4, r));
        AssertMatchesPeft("magnitude_prune_d0.4.safetensors", got, t, 0.4);
    }

    [TestCase(MajoritySignMethod.Total, "ties_d0.4_total.safetensors")]
    [TestCase(MajoritySignMethod.Frequency, "ties_d0.4_frequency.safetensors")]
    public void Ties_Density04(MajoritySignMethod method, string file)
    {
        var t = Inputs();
        var got = Run("ties", 30, r => TaskVectorOperators.Ties(Memories(t), Weights, 0.4, method, r));
        AssertMatchesPeft(file, got, t, 0.4);
    }

    [Test]
    public void DareLinear_Density05_GivenMasks()
    {
        var t = Inputs();
        var keep = Masks();
        var got = Run("dare_linear", 30, r => TaskVectorOperators.DareLinear(Memories(t), Weights, 0.5, Memories(keep), r));
        AssertMatchesPeft("dare_linear_d0.5_masks.safetensors", got, t, 0.5);
    }

    [Test]
    public void DareTies_Density05_GivenMasks()
    {
        // PEFT's default majority_sign_method, "total".
        var t = Inputs();
        var keep = Masks();
        var got = Run("dare_ties", 30, r => TaskVectorOperators.DareTies(Memories(t), Weights, 0.5, Memories(keep), MajoritySignMethod.Total, r));
        AssertMatchesPeft("dare_ties_d0.5_masks.safetensors", got, t, 0.5);
    }

    [Test]
    public void FixtureHasNoMagnitudeTiesAtTheThreshold()
    {
        // So torch.topk's unspecified tie choice cannot matter here (and our lower-index rule is not what these fixtures test).
        const int k = 12; // int(0.4 * 30)
        foreach (var (t, i) in Inputs().Select((t, i) => (t, i)))
        {
            var sorted = t.Select(Math.Abs).OrderDescending().ToArray();
            Assert.That(sorted[k - 1], Is.GreaterThan(sorted[k]), $"t{i}: the 12th and 13th largest magnitudes differ");
        }
    }
}
