using PeftNative.Models.Transformer;

namespace PeftNative.Evaluation;

/// <summary>
/// Log-likelihood scoring of candidate continuations (multiple-choice evaluation): each choice is
/// scored by Σ_j log p(choice_j | prompt, choice_&lt;j). The prompt runs once; its keys and values
/// stay in the cache and each choice runs after <see cref="KeyValueCache.Truncate"/> back to the
/// prompt, so a choice costs its own length only. The best choice is the one with the highest sum.
/// </summary>
public static class ChoiceScorer
{
    /// <summary>Scores every choice after <paramref name="prompt"/>.</summary>
    /// <exception cref="ArgumentException">An empty prompt, no choices or an empty one, an id outside the vocabulary, or a prompt and choice longer than the model takes.</exception>
    /// <exception cref="InvalidDataException">The model produced a non-finite logit.</exception>
    /// <exception cref="OperationCanceledException">Cancelled.</exception>
    public static ChoiceScoringResult Score(ICausalLanguageModel model, ReadOnlySpan<int> prompt, IReadOnlyList<IReadOnlyList<int>> choices,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(choices);
        if (prompt.IsEmpty)
            throw new ArgumentException("the prompt has no tokens: the first choice token needs something to follow", nameof(prompt));
        if (choices.Count == 0)
            throw new ArgumentException("no choices to score", nameof(choices));
        ChunkedForward.CheckTokens(model, prompt, "prompt");
        int longest = 0;
        for (int c = 0; c < choices.Count; c++)
        {
            if (choices[c] is not { Count: > 0 })
                throw new ArgumentException($"choice {c} has no tokens", nameof(choices));
            ChunkedForward.CheckTokens(model, choices[c].ToArray(), $"choice {c}");
            longest = Math.Max(longest, choices[c].Count);
        }
        // The last token of a choice is only scored, never fed.
        int capacity = prompt.Length + longest - 1;
        if (capacity > model.MaxSequenceLength)
            throw new ArgumentException($"the prompt ({prompt.Length} tokens) and the longest choice ({longest}) need {capacity} positions; the model takes {model.MaxSequenceLength}");

        using var cache = model.CreateCache(capacity);
        var buffer = ChunkedForward.CreateBuffer(model, Math.Max(prompt.Length, longest));
        var promptLast = new float[model.VocabularySize];
        ChunkedForward.Run(model, cache, prompt, buffer, prompt.Length - 1, (_, logits) => logits.CopyTo(promptLast), cancellationToken);

        var scores = new ChoiceScore[choices.Count];
        for (int c = 0; c < choices.Count; c++)
        {
            int[] tokens = [.. choices[c]];
            var logProbs = new double[tokens.Length];
            logProbs[0] = LogitMath.LogProbability(promptLast, tokens[0], $"after the prompt (choice {c})");
            cache.Truncate(prompt.Length);
            int choice = c;
            ChunkedForward.Run(model, cache, tokens.AsSpan(0, tokens.Length - 1), buffer, 0,
                (r, logits) => logProbs[r + 1] = LogitMath.LogProbability(logits, tokens[r + 1], $"at token {r + 1} of choice {choice}"),
                cancellationToken);
            scores[c] = new ChoiceScore(c, tokens, logProbs);
        }
        return new ChoiceScoringResult(prompt.ToArray(), scores);
    }
}
