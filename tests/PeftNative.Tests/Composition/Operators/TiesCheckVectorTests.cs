using PeftNative.Composition;
using PeftNative.Composition.Operators;
using static PeftNative.Tests.Composition.Operators.OperatorHarness;

namespace PeftNative.Tests.Composition.Operators;

/// <summary>
/// The TIES check vector of reference/merge-methods.md b.2 (density 0.5, top-2 of 4) and the rules it
/// pins: election on the unweighted trimmed values, +1 on a tie, weights after the election, a count
/// as the divisor.
/// </summary>
public class TiesCheckVectorTests
{
    private static readonly double[][] T =
    [
        [0.5, -0.2, 0, 1.0],
        [-0.6, 0.3, 0.1, 0.5],
        [0.1, 0.4, -0.2, -2.0],
    ];

    private static IEnumerable<TestCaseData> Table()
    {
        yield return new TestCaseData(new[] { 1.0, 1, 1 }, MajoritySignMethod.Total, new[] { -0.6, 0.4, 0, -2.0 });
        yield return new TestCaseData(new[] { 1.0, 2, 1 }, MajoritySignMethod.Total, new[] { -1.2, 0.4, 0, -2.0 });
        yield return new TestCaseData(new[] { 1.0, -1, 1 }, MajoritySignMethod.Total, new[] { 0.6, 0.4, 0, -2.0 });
        yield return new TestCaseData(new[] { 1.0, 1, 1 }, MajoritySignMethod.Frequency, new[] { 0.5, 0.4, 0, 0.75 });
        yield return new TestCaseData(new[] { 1.0, 2, 1 }, MajoritySignMethod.Frequency, new[] { 0.5, 0.4, 0, 1.0 });
        yield return new TestCaseData(new[] { 1.0, -1, 1 }, MajoritySignMethod.Frequency, new[] { 0.5, 0.4, 0, 0.25 });
    }

    [TestCaseSource(nameof(Table))]
    public void Ties_MatchesTheTable(double[] weights, MajoritySignMethod method, double[] expected)
    {
        var got = Run("ties", 4, r => TaskVectorOperators.Ties(Memories(T), weights, 0.5, method, r));
        AssertClose($"ties {method} w=[{string.Join(", ", weights)}]", expected, got, 1e-15, 1e-15);
    }

    [Test]
    public void Trimming_MatchesTheTable()
    {
        double[][] trimmed = [[0.5, 0, 0, 1.0], [-0.6, 0, 0, 0.5], [0, 0.4, 0, -2.0]];
        for (int i = 0; i < 3; i++)
        {
            var got = Run("prune", 4, r => TaskVectorOperators.PruneByMagnitude(T[i], 0.5, r));
            Assert.That(got, Is.EqualTo(trimmed[i]), $"T{i + 1}");
        }
    }

    [TestCase(MajoritySignMethod.Total)]
    [TestCase(MajoritySignMethod.Frequency)]
    public void ElectionTie_ElectsPlus(MajoritySignMethod method)
    {
        // 0.5 and -0.5 sum (and their signs sum) to 0: +1 is elected, only the positive input counts.
        double[][] t = [[0.5], [-0.5]];
        var got = Run("ties", 1, r => TaskVectorOperators.Ties(Memories(t), [3.0, 7.0], 1.0, method, r));
        Assert.That(got[0], Is.EqualTo(1.5));
    }

    [Test]
    public void Weights_ActAfterTheElection()
    {
        // Unweighted sum 0.25 elects +; a weighted sum (1 - 7.5) would have elected -.
        double[][] t = [[1.0], [-0.75]];
        var got = Run("ties", 1, r => TaskVectorOperators.Ties(Memories(t), [1.0, 10.0], 1.0, MajoritySignMethod.Total, r));
        Assert.That(got[0], Is.EqualTo(1.0));
    }

    [Test]
    public void Divisor_IsTheCountOfAgreeingInputs()
    {
        // (0.5 * 2 + 0.25 * 4) / 2 agreeing inputs; a weight-sum divisor would give 2 / 0.75.
        double[][] t = [[2.0], [4.0], [-1.0]];
        var got = Run("ties", 1, r => TaskVectorOperators.Ties(Memories(t), [0.5, 0.25, 1.0], 1.0, MajoritySignMethod.Total, r));
        Assert.That(got[0], Is.EqualTo(1.0));
    }

    [Test]
    public void Frequency_CountsSignsNotSizes()
    {
        // Two small positives outvote one large negative under "frequency", not under "total".
        double[][] t = [[0.1], [0.2], [-3.0]];
        double[] w = [1, 1, 1];
        var frequency = Run("ties", 1, r => TaskVectorOperators.Ties(Memories(t), w, 1.0, MajoritySignMethod.Frequency, r));
        var total = Run("ties", 1, r => TaskVectorOperators.Ties(Memories(t), w, 1.0, MajoritySignMethod.Total, r));
        Assert.That(frequency[0], Is.EqualTo(0.15).Within(1e-15));
        Assert.That(total[0], Is.EqualTo(-3.0));
    }
}
