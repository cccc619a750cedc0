namespace PeftNative.Evaluation;

/// <summary>What <see cref="ChoiceScorer.Score"/> found: every choice's score and the best one.</summary>
/// <param name="PromptTokens">The prompt's tokens.</param>
/// <param name="Choices">One score per choice, in the order given.</param>
public sealed record ChoiceScoringResult(IReadOnlyList<int> PromptTokens, IReadOnlyList<ChoiceScore> Choices)
{
    /// <summary>The choice with the highest <see cref="ChoiceScore.Sum"/> (the first of equals): the most likely continuation.</summary>
    public ChoiceScore Best => Choices.Aggregate((best, c) => c.Sum > best.Sum ? c : best);
}
