namespace PeftNative.Models.Transformer;

/// <summary>
/// A decoder-only language model loaded from a Hugging Face directory (GPT-2, LLaMA, Mistral,
/// Qwen2), computed in f32, with any adapters already applied (merged or at run time).
/// Evaluation (perplexity, scoring, generation) is written against this interface only.
/// </summary>
public interface ICausalLanguageModel : IDisposable
{
    /// <summary>The config's model_type: "gpt2", "llama", "mistral", "qwen2".</summary>
    string ModelType { get; }

    /// <summary>Rows of the logits: the vocabulary size.</summary>
    int VocabularySize { get; }

    /// <summary>Longest sequence the model accepts (n_positions / max_position_embeddings).</summary>
    int MaxSequenceLength { get; }

    /// <summary>A key/value cache for up to <paramref name="capacity"/> positions (at most <see cref="MaxSequenceLength"/>).</summary>
    KeyValueCache CreateCache(int capacity);

    /// <summary>
    /// Runs <paramref name="tokens"/> at positions <c>cache.Length ..</c>, appends their keys and
    /// values to the cache and writes one row of logits per token to <paramref name="logits"/>
    /// (tokens.Length × VocabularySize, row-major). Equal, up to rounding, to running the whole
    /// sequence from an empty cache.
    /// </summary>
    /// <exception cref="ArgumentException">A token outside the vocabulary, a cache of another
    /// model, too little room in the cache, or a logits span of the wrong length.</exception>
    void Forward(ReadOnlySpan<int> tokens, KeyValueCache cache, Span<float> logits, CancellationToken cancellationToken = default);
}
