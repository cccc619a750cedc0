using PeftNative.Evaluation;

namespace PeftNative.Tests.Evaluation;

/// <summary>Continuation scoring against a float64 computation done directly, with the prompt run once.</summary>
public class ChoiceScorerTests
{
    private const double Tolerance = 2e-5;

    private static double[] Reference(FakeLanguageModel model, int[] prompt, int[] choice) =>
        choice.Select((t, j) => model.ReferenceLogProb([.. prompt, .. choice[..j]], t)).ToArray();

    [Test]
    public void Scores_MatchTheReference_AndThePromptRunsOnce()
    {
        var model = new FakeLanguageModel(17, 64, "choices");
        var rng = RandomTensors.For("choices tokens");
        int[] prompt = Enumerable.Range(0, 9).Select(_ => rng.Next(17)).ToArray();
        int[][] choices = [[3], [4, 5, 6], Enumerable.Range(0, 11).Select(_ => rng.Next(17)).ToArray(), [16, 0]];
        var result = ChoiceScorer.Score(model, prompt, choices);
        using (Assert.EnterMultipleScope())
        {
            Assert.That(result.PromptTokens, Is.EqualTo(prompt));
            Assert.That(result.Choices, Has.Count.EqualTo(4));
            for (int c = 0; c < choices.Length; c++)
            {
                var expected = Reference(model, prompt, choices[c]);
                var score = result.Choices[c];
                Assert.That(score.Index, Is.EqualTo(c));
                Assert.That(score.Tokens, Is.EqualTo(choices[c]));
                Assert.That(score.TokenLogProbs, Is.EqualTo(expected).Within(Tolerance), $"choice {c}");
                Assert.That(score.Sum, Is.EqualTo(expected.Sum()).Within(Tolerance * expected.Length));
                Assert.That(score.Mean, Is.EqualTo(expected.Average()).Within(Tolerance));
                Assert.That(score.TokenCount, Is.EqualTo(choices[c].Length));
            }
            var bestBySum = Enumerable.Range(0, choices.Length).MaxBy(c => Reference(model, prompt, choices[c]).Sum());
            Assert.That(result.Best.Index, Is.EqualTo(bestBySum));
            // the prompt once, then each choice without its last token
            Assert.That(model.PositionsRun, Is.EqualTo(prompt.Length + choices.Sum(c => c.Length - 1)));
        }
    }

    [Test]
    public void Best_IsByTheSum_NotTheMean()
    {
        var model = new FakeLanguageModel(7, 64, "best by sum");
        int[] prompt = [1, 2, 3];
        // Find a one-token choice and a longer one where sum and mean disagree about which is better.
        var singles = Enumerable.Range(0, 7).Select(t => new[] { t }).ToList();
        var pairs = Enumerable.Range(0, 49).Select(i => new[] { i / 7, i % 7 }).ToList();
        int[]? a = null, b = null;
        foreach (var s in singles)
        {
            foreach (var p in pairs)
            {
                double sa = Reference(model, prompt, s).Sum(), sb = Reference(model, prompt, p).Sum();
                if (sb < sa && sb / 2 > sa)
                {
                    (a, b) = (s, p);
                    break;
                }
            }
            if (a is not null)
                break;
        }
        Assert.That(a, Is.Not.Null, "no pair where sum and mean disagree; change the seed");
        var result = ChoiceScorer.Score(model, prompt, [a!, b!]);
        using (Assert.EnterMultipleScope())
        {
            Assert.That(result.Choices[1].Mean, Is.GreaterThan(result.Choices[0].Mean), "the pair is better per token");
            Assert.That(result.Best.Index, Is.EqualTo(0), "but the single token has the higher sum");
        }
    }

    [Test]
    public void BadInput_IsRefused()
    {
        var model = new FakeLanguageModel(9, 8, "score bad input");
        using (Assert.EnterMultipleScope())
        {
            Assert.That(() => ChoiceScorer.Score(model, [], [[1]]), Throws.ArgumentException.With.Message.Contain("prompt has no tokens"));
            Assert.That(() => ChoiceScorer.Score(model, [1], []), Throws.ArgumentException.With.Message.Contain("no choices"));
            Assert.That(() => ChoiceScorer.Score(model, [1], [[1], []]), Throws.ArgumentException.With.Message.Contain("choice 1 has no tokens"));
            Assert.That(() => ChoiceScorer.Score(model, [1], [[1, 9]]), Throws.ArgumentException.With.Message.Contain("choice 0"));
            Assert.That(() => ChoiceScorer.Score(model, [1, 2, 3, 4, 5], [[1, 2, 3, 4, 5]]), Throws.ArgumentException.With.Message.Contain("9 positions"));
            // exactly full: 5 + 4 - 1 = 8 positions
            Assert.That(() => ChoiceScorer.Score(model, [1, 2, 3, 4, 5], [[1, 2, 3, 4]]), Throws.Nothing);
        }
    }
}
