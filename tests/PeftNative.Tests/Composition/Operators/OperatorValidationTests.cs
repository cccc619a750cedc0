using PeftNative.Composition;
using PeftNative.Composition.Operators;
using static PeftNative.Tests.Composition.Operators.OperatorHarness;

namespace PeftNative.Tests.Composition.Operators;

/// <summary>Every argument error is an ArgumentException naming what is wrong, and a refused call writes nothing.</summary>
public class OperatorValidationTests
{
    private static readonly double[][] T = [[0.5, -0.25, 0.75], [-1, 0.125, 0.5]];
    private static readonly bool[][] Keep = [[true, false, true], [false, true, true]];

    /// <summary>Calls every operator with the given arguments (DARE ones with <paramref name="keep"/>).</summary>
    private static IEnumerable<(string Name, Action<Span<double>> Call)> AllOperators(
        IReadOnlyList<ReadOnlyMemory<double>> tensors, double[] weights, double density, IReadOnlyList<ReadOnlyMemory<bool>> keep, MajoritySignMethod method = MajoritySignMethod.Total)
    {
        yield return ("TaskArithmetic", r => TaskVectorOperators.TaskArithmetic(tensors, weights, r));
        yield return ("MagnitudePrune", r => TaskVectorOperators.MagnitudePrune(tensors, weights, density, r));
        yield return ("Ties", r => TaskVectorOperators.Ties(tensors, weights, density, method, r));
        yield return ("DareLinear", r => TaskVectorOperators.DareLinear(tensors, weights, density, keep, r));
        yield return ("DareTies", r => TaskVectorOperators.DareTies(tensors, weights, density, keep, method, r));
    }

    private static void Refused<TException>(string context, Action<Span<double>> call, string messagePart, int length = 3)
        where TException : ArgumentException
    {
        var result = new double[length];
        result.AsSpan().Fill(double.NaN);
        var e = Assert.Catch<TException>(() => call(result), context);
        Assert.That(e!.Message, Does.Contain(messagePart).IgnoreCase, context);
        Assert.That(result, Is.All.NaN, $"{context}: a refused call wrote to the result");
    }

    [Test]
    public void NoTensors()
    {
        foreach (var (name, call) in AllOperators([], [], 0.5, []))
            Refused<ArgumentException>(name, call, "at least one tensor");
    }

    [Test]
    public void WeightCountMismatch()
    {
        foreach (var (name, call) in AllOperators(Memories(T), [1.0], 0.5, Memories(Keep)))
            Refused<ArgumentException>(name, call, "1 weights for 2 tensors");
    }

    [TestCase(double.NaN)]
    [TestCase(double.PositiveInfinity)]
    [TestCase(double.NegativeInfinity)]
    public void NonFiniteWeight(double bad)
    {
        foreach (var (name, call) in AllOperators(Memories(T), [1.0, bad], 0.5, Memories(Keep)))
            Refused<ArgumentException>(name, call, "weights[1]");
    }

    [Test]
    public void UnequalLengths()
    {
        double[][] t = [[0.5, -0.25, 0.75], [-1, 0.125]];
        foreach (var (name, call) in AllOperators(Memories(t), [1.0, 1.0], 0.5, Memories(Keep)))
            Refused<ArgumentException>(name, call, "tensors[1] has 2 elements");
    }

    [Test]
    public void WrongResultLength()
    {
        foreach (var (name, call) in AllOperators(Memories(T), [1.0, 1.0], 0.5, Memories(Keep)))
            Refused<ArgumentException>(name, call, "result has 4 elements", length: 4);
        Refused<ArgumentException>("PruneByMagnitude", r => TaskVectorOperators.PruneByMagnitude(T[0], 0.5, r), "result has 2 elements", length: 2);
    }

    [Test]
    public void ResultOverlapsAnInput()
    {
        var shared = new double[] { 0.5, -0.25, 0.75, -1, 0.125, 0.5, 0.3 };
        ReadOnlyMemory<double>[] tensors = [T[0], shared.AsMemory(0, 3)];
        foreach (var (name, call) in AllOperators(tensors, [1.0, 1.0], 0.5, Memories(Keep)))
        {
            var before = (double[])shared.Clone();
            var e = Assert.Catch<ArgumentException>(() => call(shared.AsSpan(2, 3)), name);
            Assert.That(e!.Message, Does.Contain("overlaps tensors[1]"), name);
            Assert.That(shared, Is.EqualTo(before), $"{name}: a refused call wrote to the result");
        }
        var e2 = Assert.Throws<ArgumentException>(() => TaskVectorOperators.PruneByMagnitude(shared.AsSpan(0, 3), 0.5, shared.AsSpan(1, 3)));
        Assert.That(e2!.Message, Does.Contain("overlaps"));
    }

    [TestCase(0.0)]
    [TestCase(-0.1)]
    [TestCase(double.NaN)]
    [TestCase(double.PositiveInfinity)]
    public void BadDensity(double density)
    {
        foreach (var (name, call) in AllOperators(Memories(T), [1.0, 1.0], density, Memories(Keep)).Skip(1))
            Refused<ArgumentOutOfRangeException>(name, call, "density");
        Refused<ArgumentOutOfRangeException>("PruneByMagnitude", r => TaskVectorOperators.PruneByMagnitude(T[0], density, r), "density");
    }

    [Test]
    public void BadKeepMasks()
    {
        bool[][] one = [Keep[0]];
        bool[][] shortMask = [Keep[0], [true, true]];
        foreach (var (name, call) in AllOperators(Memories(T), [1.0, 1.0], 0.5, Memories(one)).Skip(3))
            Refused<ArgumentException>(name, call, "1 keep-masks for 2 tensors");
        foreach (var (name, call) in AllOperators(Memories(T), [1.0, 1.0], 0.5, Memories(shortMask)).Skip(3))
            Refused<ArgumentException>(name, call, "keep[1] has 2 elements");
    }

    [Test]
    public void UndefinedMethod()
    {
        foreach (var (name, call) in AllOperators(Memories(T), [1.0, 1.0], 0.5, Memories(Keep), (MajoritySignMethod)7).Where(o => o.Name.Contains("Ties", StringComparison.Ordinal)))
            Refused<ArgumentOutOfRangeException>(name, call, "method");
    }

    [Test]
    public void NullLists()
    {
        var result = new double[3];
        Assert.That(() => TaskVectorOperators.TaskArithmetic(null!, [1.0], result), Throws.ArgumentNullException);
        Assert.That(() => TaskVectorOperators.DareLinear(Memories(T), [1.0, 1.0], 0.5, null!, result), Throws.ArgumentNullException);
    }

    [Test]
    public void EmptyTensors_AreFine()
    {
        double[][] t = [[], []];
        foreach (var (name, call) in AllOperators(Memories(t), [1.0, -1.0], 0.5, Memories(new bool[][] { [], [] })))
            Assert.That(() => call(Span<double>.Empty), Throws.Nothing, name);
    }
}
