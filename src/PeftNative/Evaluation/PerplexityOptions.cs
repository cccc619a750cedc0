namespace PeftNative.Evaluation;

/// <summary>The sliding window of <see cref="PerplexityEvaluator"/>.</summary>
public sealed record PerplexityOptions
{
    /// <summary>Tokens per window, at least 2 and at most the model's MaxSequenceLength; null: MaxSequenceLength.</summary>
    public int? ContextLength { get; init; }

    /// <summary>How far each window moves, 1 to <see cref="ContextLength"/>; null: half the context (at least 1).</summary>
    public int? Stride { get; init; }
}
