using PeftNative.Composition;
using PeftNative.Composition.Operators;
using static PeftNative.Tests.Composition.Operators.OperatorHarness;

namespace PeftNative.Tests.Composition.Operators;

/// <summary>
/// Every operator against <see cref="MergeReference"/> on seeded random inputs: odd lengths (1 to 4099, the
/// largest spanning several TIES blocks), 1 to 5 inputs, negative weights, densities from 0.05 to above 1,
/// continuous values and quantized ones (equal magnitudes at the top-k threshold, zero election sums).
/// </summary>
public class TaskVectorOperatorsTests
{
    private const double Atol = 1e-12, Rtol = 1e-12;

    private static readonly double[] Densities = [0.05, 0.3, 0.4, 0.5, 0.75, 0.999, 1.0, 1.7];

    private static IEnumerable<TestCaseData> Cases()
    {
        foreach (int length in new[] { 1, 7, 33, 1000 })
            foreach (int count in new[] { 1, 3 })
                foreach (bool quantized in new[] { false, true })
                    yield return new TestCaseData(length, count, quantized);
        yield return new TestCaseData(2, 2, true);
        yield return new TestCaseData(64, 5, false);
        yield return new TestCaseData(4099, 2, false);
        yield return new TestCaseData(4099, 3, true);
    }

    private static (double[][] T, double[] W, Random Rng) Inputs(string op, int length, int count, bool quantized)
    {
        var rng = RandomTensors.For($"{op}/{length}/{count}/{quantized}");
        var t = new double[count][];
        for (int i = 0; i < count; i++)
            t[i] = Values(rng, length, quantized);
        return (t, Weights(rng, count), rng);
    }

    [TestCaseSource(nameof(Cases))]
    public void TaskArithmetic_MatchesReference(int length, int count, bool quantized)
    {
        var (t, w, _) = Inputs("ta", length, count, quantized);
        var got = Run("task_arithmetic", length, r => TaskVectorOperators.TaskArithmetic(Memories(t), w, r));
        AssertClose($"task_arithmetic n={length} inputs={count}", MergeReference.TaskArithmetic(t, w), got, Atol, Rtol);
    }

    [TestCaseSource(nameof(Cases))]
    public void PruneByMagnitude_MatchesReference(int length, int count, bool quantized)
    {
        var (t, _, _) = Inputs("prune", length, count, quantized);
        foreach (double d in Densities)
        {
            var got = Run("prune", length, r => TaskVectorOperators.PruneByMagnitude(t[0], d, r));
            var expected = MergeReference.Prune(t[0], d);
            AssertClose($"prune n={length} density={d}", expected, got, 0, 0);
            int kept = got.Count(x => x != 0);
            Assert.That(kept, Is.EqualTo(d >= 1 ? length : (int)(d * length)), $"kept count, n={length} density={d}");
        }
    }

    [TestCaseSource(nameof(Cases))]
    public void MagnitudePrune_MatchesReference(int length, int count, bool quantized)
    {
        var (t, w, _) = Inputs("mp", length, count, quantized);
        foreach (double d in Densities)
        {
            var got = Run("magnitude_prune", length, r => TaskVectorOperators.MagnitudePrune(Memories(t), w, d, r));
            AssertClose($"magnitude_prune n={length} inputs={count} density={d}", MergeReference.MagnitudePrune(t, w, d), got, Atol, Rtol);
        }
    }

    [TestCaseSource(nameof(Cases))]
    public void Ties_MatchesReference(int length, int count, bool quantized)
    {
        var (t, w, _) = Inputs("ties", length, count, quantized);
        foreach (var method in new[] { MajoritySignMethod.Total, MajoritySignMethod.Frequency })
            foreach (double d in Densities)
            {
                var got = Run("ties", length, r => TaskVectorOperators.Ties(Memories(t), w, d, method, r));
                AssertClose($"ties {method} n={length} inputs={count} density={d}", MergeReference.Ties(t, w, d, method), got, Atol, Rtol);
            }
    }

    [TestCaseSource(nameof(Cases))]
    public void DareLinear_MatchesReference(int length, int count, bool quantized)
    {
        var (t, w, rng) = Inputs("dl", length, count, quantized);
        foreach (double d in Densities)
        {
            var keep = Enumerable.Range(0, count).Select(_ => Mask(rng, length, d)).ToArray();
            var got = Run("dare_linear", length, r => TaskVectorOperators.DareLinear(Memories(t), w, d, Memories(keep), r));
            AssertClose($"dare_linear n={length} inputs={count} density={d}", MergeReference.DareLinear(t, w, d, keep), got, Atol, Rtol);
        }
    }

    [TestCaseSource(nameof(Cases))]
    public void DareTies_MatchesReference(int length, int count, bool quantized)
    {
        var (t, w, rng) = Inputs("dt", length, count, quantized);
        foreach (var method in new[] { MajoritySignMethod.Total, MajoritySignMethod.Frequency })
            foreach (double d in Densities)
            {
                var keep = Enumerable.Range(0, count).Select(_ => Mask(rng, length, d)).ToArray();
                var got = Run("dare_ties", length, r => TaskVectorOperators.DareTies(Memories(t), w, d, Memories(keep), method, r));
                AssertClose($"dare_ties {method} n={length} inputs={count} density={d}", MergeReference.DareTies(t, w, d, keep, method), got, Atol, Rtol);
            }
    }

    [Test]
    public void DensityAboveOne_ReadsNoMasks()
    {
        // PEFT returns the tensor unchanged for density >= 1: no drop, no 1/density rescale.
        double[][] t = [[0.5, -0.25, 0.75], [-1, 0.125, 0.5]];
        double[] w = [1, -0.5];
        bool[][] dropAll = [new bool[3], new bool[3]];
        var linear = Run("dare_linear", 3, r => TaskVectorOperators.DareLinear(Memories(t), w, 1.5, Memories(dropAll), r));
        Assert.That(linear, Is.EqualTo(new[] { 1.0, -0.3125, 0.5 }));
        var ties = Run("dare_ties", 3, r => TaskVectorOperators.DareTies(Memories(t), w, 1.0, Memories(dropAll), MajoritySignMethod.Total, r));
        // Column sums -0.5, -0.125, 1.25 elect -, -, +; the last column averages two agreeing inputs.
        Assert.That(ties, Is.EqualTo(new[] { 0.5, -0.25, 0.25 }));
    }

    [Test]
    public void LargeTensorWithManyTies_MatchesReference()
    {
        // A LoRA-factor-sized stack (64 x 4096) whose magnitudes take 9 values: the threshold
        // of the top-k sits inside a run of thousands of equal magnitudes spread over many blocks.
        var rng = RandomTensors.For("large-ties");
        const int length = 64 * 4096;
        var t = new double[3][];
        for (int i = 0; i < 3; i++)
        {
            t[i] = new double[length];
            for (int j = 0; j < length; j++)
                t[i][j] = (rng.Next(9) + 1) * 0.125 * (rng.Next(2) == 0 ? 1 : -1);
        }
        double[] w = [0.7, -0.4, 1.1];
        foreach (var method in new[] { MajoritySignMethod.Total, MajoritySignMethod.Frequency })
        {
            var got = Run("ties", length, r => TaskVectorOperators.Ties(Memories(t), w, 0.37, method, r));
            AssertClose($"ties {method} 64x4096", MergeReference.Ties(t, w, 0.37, method), got, Atol, Rtol);
        }
    }
}
