using PeftNative.Evaluation;

namespace PeftNative.Tests.Evaluation;

/// <summary>Sliding-window perplexity against a float64 computation of Hugging Face's recipe done directly in the test.</summary>
public class PerplexityEvaluatorTests
{
    private const double Tolerance = 2e-5;

    private static int[] RandomTokens(string seed, int n, int vocab)
    {
        var rng = RandomTensors.For(seed);
        return Enumerable.Range(0, n).Select(_ => rng.Next(vocab)).ToArray();
    }

    /// <summary>
    /// The recipe stated per token: token i (i >= 1) belongs to the first window whose end passes it,
    /// window w covering [w·stride, min(w·stride + ctx, n)); it is scored with that window's tokens
    /// before it as context, unless it is the window's first token (then it has none and is skipped).
    /// </summary>
    private static double[] Reference(FakeLanguageModel model, int[] tokens, int ctx, int stride, out int windows)
    {
        int n = tokens.Length;
        var expected = new double[n - 1];
        windows = 0;
        for (int w = 0; ; w++)
        {
            windows++;
            if (Math.Min(w * stride + ctx, n) == n)
                break;
        }
        for (int i = 1; i < n; i++)
        {
            int w = 0;
            while (Math.Min(w * stride + ctx, n) <= i)
                w++;
            int begin = w * stride;
            expected[i - 1] = i == begin ? double.NaN : model.ReferenceLogProb(tokens[begin..i], tokens[i]);
        }
        return expected;
    }

    [TestCase(1, 17, 64, null)]      // one window, default stride
    [TestCase(2, 40, 16, 8)]         // overlapping windows
    [TestCase(3, 40, 16, 16)]        // stride = ctx: window starts unscored
    [TestCase(4, 41, 7, 3)]          // odd sizes, a short last window
    [TestCase(5, 23, 2, 1)]          // the smallest context: one token of context each
    [TestCase(6, 30, 5, 5)]
    [TestCase(7, 300, 200, 70)]      // windows longer than a forward chunk (128 tokens)
    [TestCase(8, 2, 64, 1)]          // the shortest input
    public void TokenLogProbs_AndPerplexity_MatchTheRecipe(int seed, int n, int ctx, int? stride)
    {
        var model = new FakeLanguageModel(13, 256, $"ppl model {seed}");
        var tokens = RandomTokens($"ppl tokens {seed}", n, 13);
        var result = PerplexityEvaluator.Evaluate(model, tokens, new PerplexityOptions { ContextLength = ctx, Stride = stride });
        int s = stride ?? Math.Max(1, ctx / 2);
        var expected = Reference(model, tokens, ctx, s, out int windows);
        var scored = expected.Where(x => !double.IsNaN(x)).ToArray();
        using (Assert.EnterMultipleScope())
        {
            Assert.That(result.Tokens, Is.EqualTo(tokens));
            Assert.That(result.ContextLength, Is.EqualTo(ctx));
            Assert.That(result.Stride, Is.EqualTo(s));
            Assert.That(result.Windows, Is.EqualTo(windows));
            Assert.That(result.TokenLogProbs, Has.Count.EqualTo(n - 1));
            for (int i = 0; i < n - 1; i++)
            {
                if (double.IsNaN(expected[i]))
                    Assert.That(result.TokenLogProbs[i], Is.NaN, $"token {i + 1} starts a window: unscored");
                else
                    Assert.That(result.TokenLogProbs[i], Is.EqualTo(expected[i]).Within(Tolerance), $"token {i + 1}");
            }
            Assert.That(result.ScoredTokens, Is.EqualTo(scored.Length));
            Assert.That(result.LogLikelihood, Is.EqualTo(scored.Sum()).Within(Tolerance * n));
            Assert.That(result.Perplexity, Is.EqualTo(Math.Exp(-scored.Average())).Within(1e-4).Percent);
        }
    }

    [Test]
    public void StrideOverlap_GivesTokensMoreContext()
    {
        // With the context mattering, a sliding window (stride 1) and disjoint windows must differ.
        var model = new FakeLanguageModel(11, 64, "context matters");
        var tokens = RandomTokens("context matters tokens", 30, 11);
        var disjoint = PerplexityEvaluator.Evaluate(model, tokens, new PerplexityOptions { ContextLength = 6, Stride = 6 });
        var sliding = PerplexityEvaluator.Evaluate(model, tokens, new PerplexityOptions { ContextLength = 6, Stride = 1 });
        using (Assert.EnterMultipleScope())
        {
            Assert.That(sliding.ScoredTokens, Is.EqualTo(29));
            Assert.That(disjoint.ScoredTokens, Is.EqualTo(29 - 4), "windows at 6, 12, 18, 24 start unscored");
            Assert.That(sliding.Windows, Is.EqualTo(25));
            Assert.That(sliding.Perplexity, Is.Not.EqualTo(disjoint.Perplexity).Within(1e-9));
        }
    }

    [Test]
    public void DefaultContext_IsTheModelsMaximum()
    {
        var model = new FakeLanguageModel(9, 12, "default ctx");
        var tokens = RandomTokens("default ctx tokens", 30, 9);
        var result = PerplexityEvaluator.Evaluate(model, tokens);
        Assert.That((result.ContextLength, result.Stride), Is.EqualTo((12, 6)));
    }

    [Test]
    public void BadInput_IsRefused()
    {
        var model = new FakeLanguageModel(9, 32, "bad input");
        int[] ok = [1, 2, 3, 4];
        using (Assert.EnterMultipleScope())
        {
            Assert.That(() => PerplexityEvaluator.Evaluate(model, [5]), Throws.ArgumentException.With.Message.Contain("at least 2 tokens"));
            Assert.That(() => PerplexityEvaluator.Evaluate(model, []), Throws.ArgumentException);
            Assert.That(() => PerplexityEvaluator.Evaluate(model, [1, 9, 2]), Throws.ArgumentException.With.Message.Contain("token 9 at position 1"));
            Assert.That(() => PerplexityEvaluator.Evaluate(model, [1, -1]), Throws.ArgumentException.With.Message.Contain("outside the vocabulary"));
            Assert.That(() => PerplexityEvaluator.Evaluate(model, ok, new PerplexityOptions { ContextLength = 1 }), Throws.InstanceOf<ArgumentOutOfRangeException>());
            Assert.That(() => PerplexityEvaluator.Evaluate(model, ok, new PerplexityOptions { ContextLength = 33 }), Throws.InstanceOf<ArgumentOutOfRangeException>());
            Assert.That(() => PerplexityEvaluator.Evaluate(model, ok, new PerplexityOptions { ContextLength = 4, Stride = 0 }), Throws.InstanceOf<ArgumentOutOfRangeException>());
            Assert.That(() => PerplexityEvaluator.Evaluate(model, ok, new PerplexityOptions { ContextLength = 4, Stride = 5 }), Throws.InstanceOf<ArgumentOutOfRangeException>());
        }
    }

    [Test]
    public void NonFiniteLogits_AreReported()
    {
        var model = new FakeLanguageModel(9, 32, "nan logits") { PoisonPosition = 3 };
        Assert.That(() => PerplexityEvaluator.Evaluate(model, [1, 2, 3, 4, 5, 6]),
            Throws.TypeOf<InvalidDataException>().With.Message.Contain("non-finite").And.Message.Contain("position 3"));
    }
}
