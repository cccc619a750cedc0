namespace PeftNative.Evaluation;

/// <summary>How likely the model finds one continuation of the prompt.</summary>
/// <param name="Index">Position of the choice in the list given.</param>
/// <param name="Tokens">The continuation's tokens.</param>
/// <param name="TokenLogProbs">log p(token j | prompt, tokens before j), natural log, one per token.</param>
public sealed record ChoiceScore(int Index, IReadOnlyList<int> Tokens, IReadOnlyList<double> TokenLogProbs)
{
    /// <summary>Σ of <see cref="TokenLogProbs"/>: the log-probability of the whole continuation.</summary>
    public double Sum => TokenLogProbs.Sum();

    /// <summary><see cref="Sum"/> per token (length-normalised, for comparing continuations of different lengths).</summary>
    public double Mean => Sum / TokenLogProbs.Count;

    /// <summary>Tokens in the continuation.</summary>
    public int TokenCount => Tokens.Count;
}
