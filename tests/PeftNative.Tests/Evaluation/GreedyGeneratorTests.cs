using PeftNative.Evaluation;

namespace PeftNative.Tests.Evaluation;

/// <summary>Greedy generation against an argmax of float64 logits recomputed from scratch at every step.</summary>
public class GreedyGeneratorTests
{
    private static List<int> Reference(FakeLanguageModel model, int[] prompt, int steps)
    {
        var seq = new List<int>(prompt);
        var generated = new List<int>();
        for (int i = 0; i < steps; i++)
        {
            var row = model.ReferenceLogits(seq);
            int next = Array.IndexOf(row, row.Max());
            generated.Add(next);
            seq.Add(next);
        }
        return generated;
    }

    [TestCase(1, 20)]
    [TestCase(7, 1)]
    [TestCase(3, 40)]
    public void MatchesTheReference_UpToMaxNewTokens(int promptLength, int maxNew)
    {
        var model = new FakeLanguageModel(23, 128, $"greedy {promptLength}");
        var rng = RandomTensors.For($"greedy prompt {promptLength}");
        int[] prompt = Enumerable.Range(0, promptLength).Select(_ => rng.Next(23)).ToArray();
        var result = GreedyGenerator.Generate(model, prompt, maxNew);
        using (Assert.EnterMultipleScope())
        {
            Assert.That(result.PromptTokens, Is.EqualTo(prompt));
            Assert.That(result.Tokens, Is.EqualTo(Reference(model, prompt, maxNew)));
            Assert.That(result.StopReason, Is.EqualTo(GenerationStopReason.MaxNewTokens));
            Assert.That(model.PositionsRun, Is.EqualTo(promptLength + maxNew - 1), "one position per new token, the last one never fed");
        }
    }

    [Test]
    public void StopsAtAStopToken_IncludingIt()
    {
        var model = new FakeLanguageModel(23, 128, "greedy eos");
        int[] prompt = [4, 5, 6];
        var free = Reference(model, prompt, 30);
        int stop = free[5];
        int first = free.IndexOf(stop);
        var result = GreedyGenerator.Generate(model, prompt, 30, [stop, 999]);
        using (Assert.EnterMultipleScope())
        {
            Assert.That(result.StopReason, Is.EqualTo(GenerationStopReason.StopToken));
            Assert.That(result.Tokens, Is.EqualTo(free.Take(first + 1)));
        }
    }

    [Test]
    public void StopsWhenTheContextIsFull()
    {
        var model = new FakeLanguageModel(11, 10, "greedy full");
        int[] prompt = [1, 2, 3, 4];
        var result = GreedyGenerator.Generate(model, prompt, 50);
        using (Assert.EnterMultipleScope())
        {
            Assert.That(result.StopReason, Is.EqualTo(GenerationStopReason.ContextFull));
            Assert.That(result.Tokens, Is.EqualTo(Reference(model, prompt, 7)), "10 positions fed: 4 prompt + 6 generated, and the 7th predicted from the last");
        }
    }

    [Test]
    public void Ties_PickTheLowestId_AndZeroTokensIsEmpty()
    {
        var model = new FakeLanguageModel(11, 32, "greedy ties") { Constant = 0.25f };
        using (Assert.EnterMultipleScope())
        {
            Assert.That(GreedyGenerator.Generate(model, [5], 3).Tokens, Is.EqualTo(new[] { 0, 0, 0 }));
            var none = GreedyGenerator.Generate(model, [5], 0);
            Assert.That(none.Tokens, Is.Empty);
            Assert.That(none.StopReason, Is.EqualTo(GenerationStopReason.MaxNewTokens));
        }
    }

    [Test]
    public void BadInput_IsRefused()
    {
        var model = new FakeLanguageModel(11, 4, "greedy bad");
        using (Assert.EnterMultipleScope())
        {
            Assert.That(() => GreedyGenerator.Generate(model, [], 3), Throws.ArgumentException);
            Assert.That(() => GreedyGenerator.Generate(model, [1, 2, 3, 4, 5], 3), Throws.ArgumentException.With.Message.Contain("model takes 4"));
            Assert.That(() => GreedyGenerator.Generate(model, [11], 3), Throws.ArgumentException.With.Message.Contain("outside the vocabulary"));
            Assert.That(() => GreedyGenerator.Generate(model, [1], -1), Throws.InstanceOf<ArgumentOutOfRangeException>());
            Assert.That(() => GreedyGenerator.Generate(new FakeLanguageModel(11, 4, "nan") { PoisonPosition = 0 }, [1], 2), Throws.TypeOf<InvalidDataException>());
        }
    }
}
