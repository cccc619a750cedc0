using PeftNative.Models.Transformer;

namespace PeftNative.Evaluation;

/// <summary>
/// Greedy decoding with a KV cache: the prompt runs once, then each new token is the argmax of the
/// last logits (the lowest id on ties) and costs one position. Stops after
/// <c>maxNewTokens</c>, after a stop token (returned as the last token), or when the sequence
/// fills the model's maximum length.
/// </summary>
public static class GreedyGenerator
{
    /// <summary>Generates up to <paramref name="maxNewTokens"/> tokens after <paramref name="prompt"/>.</summary>
    /// <param name="model">The model.</param>
    /// <param name="prompt">At least one token.</param>
    /// <param name="maxNewTokens">0 or more.</param>
    /// <param name="stopTokens">Ids that end generation (the model's EOS); empty: none.</param>
    /// <param name="cancellationToken">Checked between tokens.</param>
    /// <exception cref="ArgumentException">An empty prompt, a prompt longer than the model takes, an id outside the vocabulary, or a negative count.</exception>
    /// <exception cref="InvalidDataException">The model produced a non-finite logit.</exception>
    /// <exception cref="OperationCanceledException">Cancelled.</exception>
    public static GenerationResult Generate(ICausalLanguageModel model, ReadOnlySpan<int> prompt, int maxNewTokens,
        IReadOnlyCollection<int>? stopTokens = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentOutOfRangeException.ThrowIfNegative(maxNewTokens);
        if (prompt.IsEmpty)
            throw new ArgumentException("the prompt has no tokens", nameof(prompt));
        if (prompt.Length > model.MaxSequenceLength)
            throw new ArgumentException($"the prompt has {prompt.Length} tokens; the model takes {model.MaxSequenceLength}", nameof(prompt));
        ChunkedForward.CheckTokens(model, prompt, "prompt");
        var stops = new HashSet<int>(stopTokens ?? []);
        var generated = new List<int>();
        if (maxNewTokens == 0)
            return new GenerationResult(prompt.ToArray(), generated, GenerationStopReason.MaxNewTokens);

        int capacity = Math.Min(prompt.Length + maxNewTokens - 1, model.MaxSequenceLength);
        using var cache = model.CreateCache(Math.Max(capacity, prompt.Length));
        var buffer = ChunkedForward.CreateBuffer(model, prompt.Length);
        int next = -1;
        ChunkedForward.Run(model, cache, prompt, buffer, prompt.Length - 1, (_, logits) => next = LogitMath.ArgMax(logits, "after the prompt"), cancellationToken);
        while (true)
        {
            generated.Add(next);
            if (stops.Contains(next))
                return new GenerationResult(prompt.ToArray(), generated, GenerationStopReason.StopToken);
            if (generated.Count == maxNewTokens)
                return new GenerationResult(prompt.ToArray(), generated, GenerationStopReason.MaxNewTokens);
            if (cache.Length >= model.MaxSequenceLength)
                return new GenerationResult(prompt.ToArray(), generated, GenerationStopReason.ContextFull);
            cancellationToken.ThrowIfCancellationRequested();
            int step = generated.Count;
            ChunkedForward.Run(model, cache, [next], buffer, 0, (_, logits) => next = LogitMath.ArgMax(logits, $"at new token {step}"), cancellationToken);
        }
    }
}
