using PeftNative.Composition;
using PeftNative.Composition.Operators;
using static PeftNative.Tests.Composition.Operators.OperatorHarness;

namespace PeftNative.Tests.Composition.Operators;

/// <summary>
/// The documented rules where PEFT leaves a choice or where special values appear: equal magnitudes kept
/// lowest index first, k = floor(density * n), NaN ranked above +Inf, masks that multiply (pruned
/// negatives become -0, a pruned Inf becomes NaN), and NaN propagation through the election.
/// </summary>
public class PruneRuleTests
{
    [TestCase(0.4, new[] { 3.0, -3, 0, 0, 0 })]
    [TestCase(0.6, new[] { 3.0, -3, 0, 3, 0 })]
    [TestCase(0.8, new[] { 3.0, -3, 0, 3, -2 })]
    public void EqualMagnitudes_LowerIndexWins(double density, double[] expected)
    {
        double[] t = [3, -3, 1, 3, -2];
        var got = Run("prune", 5, r => TaskVectorOperators.PruneByMagnitude(t, density, r));
        Assert.That(got, Is.EqualTo(expected));
    }

    [Test]
    public void AllEqualMagnitudes_KeepsTheFirstK()
    {
        double[] t = [0.5, -0.5, 0.5, -0.5, 0.5, -0.5, 0.5];
        var got = Run("prune", 7, r => TaskVectorOperators.PruneByMagnitude(t, 0.5, r));
        Assert.That(got, Is.EqualTo(new[] { 0.5, -0.5, 0.5, 0, 0, 0, 0 }));
    }

    [Test]
    public void KeepCount_IsFloorOfDensityTimesLength()
    {
        // 0.4 * 30 = 12.000000000000002 in float64: 12 kept, as Python's int(0.4 * 30).
        var rng = RandomTensors.For("floor");
        var t = Values(rng, 30, quantized: false);
        var got = Run("prune", 30, r => TaskVectorOperators.PruneByMagnitude(t, 0.4, r));
        Assert.That(got.Count(x => x != 0), Is.EqualTo(12));
        got = Run("prune", 30, r => TaskVectorOperators.PruneByMagnitude(t, 0.39, r));
        Assert.That(got.Count(x => x != 0), Is.EqualTo(11));
    }

    [Test]
    public void KeepCountZero_ZeroesEverythingWithSignedZeros()
    {
        double[] t = [0.5, -0.25, 0.75, -1, 0.125, 0.3, -0.6];
        var got = Run("prune", 7, r => TaskVectorOperators.PruneByMagnitude(t, 0.1, r));
        for (int j = 0; j < t.Length; j++)
        {
            Assert.That(got[j], Is.Zero, $"index {j}");
            Assert.That(double.IsNegative(got[j]), Is.EqualTo(t[j] < 0), $"index {j}: T * 0 keeps the sign of zero");
        }
    }

    [Test]
    public void DensityOneOrMore_CopiesBitForBit()
    {
        double[] t = [0.5, double.NaN, -0.0, double.PositiveInfinity, -3];
        foreach (double d in new[] { 1.0, 1.0001, 12 })
        {
            var got = Run("prune", 5, r => TaskVectorOperators.PruneByMagnitude(t, d, r));
            Assert.That(got.Select(BitConverter.DoubleToInt64Bits), Is.EqualTo(t.Select(BitConverter.DoubleToInt64Bits)), $"density {d}");
        }
    }

    [Test]
    public void NaN_RanksAboveInfinity()
    {
        double[] t = [1, double.PositiveInfinity, double.NaN, -2, 5];
        var got = Run("prune", 5, r => TaskVectorOperators.PruneByMagnitude(t, 0.4, r));
        Assert.That(got[0], Is.Zero);
        Assert.That(got[1], Is.EqualTo(double.PositiveInfinity));
        Assert.That(got[2], Is.NaN);
        Assert.That(got[3], Is.Zero);
        Assert.That(double.IsNegative(got[3]), Is.True, "-2 * 0 = -0");
        Assert.That(got[4], Is.Zero);
    }

    [Test]
    public void PrunedInfinity_BecomesNaN()
    {
        // k = floor(0.34 * 3) = 1: the NaN outranks +Inf, and Inf * 0 is NaN, as in PEFT's T * mask.
        double[] t = [double.NegativeInfinity, double.NaN, 1];
        var got = Run("prune", 3, r => TaskVectorOperators.PruneByMagnitude(t, 0.34, r));
        Assert.That(got[0], Is.NaN);
        Assert.That(got[1], Is.NaN);
        Assert.That(got[2], Is.Zero);
    }

    [TestCase(MajoritySignMethod.Total)]
    [TestCase(MajoritySignMethod.Frequency)]
    public void NaNInAnInput_MakesThatElementNaN(MajoritySignMethod method)
    {
        double[][] t = [[double.NaN, 1, -0.5], [1, 2, -0.25]];
        var got = Run("ties", 3, r => TaskVectorOperators.Ties(Memories(t), [1.0, 1.0], 1.0, method, r));
        Assert.That(got[0], Is.NaN);
        Assert.That(got[1], Is.EqualTo(1.5));
        Assert.That(got[2], Is.EqualTo(-0.375));
    }

    [Test]
    public void DroppedInfinity_MakesDareLinearNaN()
    {
        // PEFT multiplies by the mask, so even a dropped Inf poisons the element.
        double[][] t = [[double.PositiveInfinity, 0.5]];
        bool[][] keep = [[false, true]];
        var got = Run("dare_linear", 2, r => TaskVectorOperators.DareLinear(Memories(t), [1.0], 0.5, Memories(keep), r));
        Assert.That(got[0], Is.NaN);
        Assert.That(got[1], Is.EqualTo(1.0));
    }
}
