using PeftNative.Models.Transformer;

namespace PeftNative.Evaluation;

/// <summary>
/// Perplexity of a token sequence with a sliding window, exactly as Hugging Face's perplexity
/// recipe (transformers docs, "Perplexity of fixed-length models"):
/// <code>
/// prev_end = 0
/// for begin in 0, stride, 2·stride, ...:
///     end = min(begin + ctx, n)
///     run tokens[begin:end] from an empty cache
///     score each position p in [max(prev_end, begin + 1), end): log p(tokens[p] | tokens[begin:p])
///     prev_end = end;  stop when end == n
/// </code>
/// So every token after the first is scored once, with the tokens of its window before it as
/// context (up to ctx - 1 of them); a larger overlap (smaller stride) gives each token more
/// context at more compute. With stride = ctx the windows do not overlap and the first token of
/// each later window has no context in it: it is not scored (Hugging Face's label shift drops it).
/// Perplexity = exp(-Σ scored log p / scored count). Log-probabilities are a log-softmax in double.
/// </summary>
public static class PerplexityEvaluator
{
    /// <summary>Evaluates <paramref name="tokens"/> on <paramref name="model"/>.</summary>
    /// <exception cref="ArgumentException">Fewer than 2 tokens, an id outside the vocabulary, or a context length or stride out of range.</exception>
    /// <exception cref="InvalidDataException">The model produced a non-finite logit.</exception>
    /// <exception cref="OperationCanceledException">Cancelled.</exception>
    public static PerplexityResult Evaluate(ICausalLanguageModel model, ReadOnlySpan<int> tokens, PerplexityOptions? options = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(model);
        options ??= new PerplexityOptions();
        if (tokens.Length < 2)
            throw new ArgumentException($"perplexity needs at least 2 tokens, got {tokens.Length}", nameof(tokens));
        ChunkedForward.CheckTokens(model, tokens, "perplexity");
        int ctx = options.ContextLength ?? model.MaxSequenceLength;
        if (ctx < 2 || ctx > model.MaxSequenceLength)
            throw new ArgumentOutOfRangeException(null, $"context length {ctx} is out of range: it must be from 2 to the model's maximum sequence length {model.MaxSequenceLength}");
        int stride = options.Stride ?? Math.Max(1, ctx / 2);
        if (stride < 1 || stride > ctx)
            throw new ArgumentOutOfRangeException(null, $"stride {stride} is out of range: it must be from 1 to the context length {ctx}");

        int n = tokens.Length;
        var logProbs = new double[n - 1];
        Array.Fill(logProbs, double.NaN);
        var seq = tokens.ToArray();
        using var cache = model.CreateCache(Math.Min(ctx, n) - 1);
        var buffer = ChunkedForward.CreateBuffer(model, Math.Min(ctx, n) - 1);
        int prevEnd = 0, windows = 0;
        for (int begin = 0; begin < n; begin += stride)
        {
            int end = Math.Min(begin + ctx, n);
            int firstTarget = Math.Max(prevEnd, begin + 1);
            cache.Truncate(0);
            // Row r predicts position begin + r + 1, so the window's last token need not be fed.
            ChunkedForward.Run(model, cache, seq.AsSpan(begin, end - 1 - begin), buffer, firstTarget - 1 - begin,
                (r, logits) =>
                {
                    int p = begin + r + 1;
                    logProbs[p - 1] = LogitMath.LogProbability(logits, seq[p], $"at position {p - 1} (window from {begin})");
                },
                cancellationToken);
            windows++;
            prevEnd = end;
            if (end == n)
                break;
        }
        return new PerplexityResult(seq, logProbs, ctx, stride, windows);
    }
}
