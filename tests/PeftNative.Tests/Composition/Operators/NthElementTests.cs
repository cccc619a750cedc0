using PeftNative.Composition.Operators;

namespace PeftNative.Tests.Composition.Operators;

/// <summary>The selection behind magnitude pruning against a full sort, on patterns that break naive quickselect.</summary>
public class NthElementTests
{
    private static IEnumerable<TestCaseData> Patterns()
    {
        foreach (int n in new[] { 1, 2, 3, 23, 24, 25, 100, 1001, 100_000 })
        {
            yield return new TestCaseData("random", n);
            yield return new TestCaseData("few-distinct", n);
            yield return new TestCaseData("ascending", n);
            yield return new TestCaseData("descending", n);
            yield return new TestCaseData("all-equal", n);
            yield return new TestCaseData("organ-pipe", n);
        }
    }

    private static ulong[] Make(string pattern, int n, Random rng) => pattern switch
    {
        "random" => Enumerable.Range(0, n).Select(_ => (ulong)rng.NextInt64()).ToArray(),
        "few-distinct" => Enumerable.Range(0, n).Select(_ => (ulong)rng.Next(3)).ToArray(),
        "ascending" => Enumerable.Range(0, n).Select(i => (ulong)i).ToArray(),
        "descending" => Enumerable.Range(0, n).Select(i => (ulong)(n - i)).ToArray(),
        "all-equal" => Enumerable.Repeat(7UL, n).ToArray(),
        "organ-pipe" => Enumerable.Range(0, n).Select(i => (ulong)Math.Min(i, n - i)).ToArray(),
        _ => throw new ArgumentOutOfRangeException(nameof(pattern)),
    };

    [TestCaseSource(nameof(Patterns))]
    public void Select_EqualsTheSortedPosition(string pattern, int n)
    {
        var rng = RandomTensors.For($"nth/{pattern}/{n}");
        var original = Make(pattern, n, rng);
        var sorted = original.Order().ToArray();
        var positions = n <= 30 ? Enumerable.Range(0, n) : [0, 1, n / 3, n / 2, n - 2, n - 1, rng.Next(n)];
        foreach (int p in positions)
        {
            var keys = (ulong[])original.Clone();
            ulong got = NthElement.Select(keys, p);
            Assert.That(got, Is.EqualTo(sorted[p]), $"{pattern} n={n} position {p}");
            Assert.That(keys.Order(), Is.EqualTo(sorted), $"{pattern} n={n}: the keys are a permutation of the input");
            for (int j = 0; j < n; j++)
                if (j < p ? keys[j] > got : j > p && keys[j] < got)
                    Assert.Fail($"{pattern} n={n} position {p}: index {j} is on the wrong side");
        }
    }

    [Test]
    public void Select_RefusesAPositionOutside()
    {
        Assert.That(() => NthElement.Select(new ulong[3], 3), Throws.TypeOf<ArgumentOutOfRangeException>());
        Assert.That(() => NthElement.Select([], 0), Throws.TypeOf<ArgumentOutOfRangeException>());
    }
}
