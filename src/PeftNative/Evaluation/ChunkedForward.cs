using PeftNative.Models.Transformer;

namespace PeftNative.Evaluation;

/// <summary>Receives one row of logits: the prediction after <paramref name="index"/> tokens of the span fed (0-based).</summary>
internal delegate void LogitsRowHandler(int index, ReadOnlySpan<float> logits);

/// <summary>
/// Feeds a token span through a model a chunk at a time, so the logits buffer holds
/// <see cref="ChunkTokens"/> rows rather than the whole window (ctx × 50k floats is hundreds of MB);
/// the KV cache makes the chunks equal to one long call.
/// </summary>
internal static class ChunkedForward
{
    /// <summary>Tokens per model call: large enough for GEMM efficiency, small enough for the buffer.</summary>
    public const int ChunkTokens = 128;

    /// <summary>A logits buffer for <paramref name="model"/>.</summary>
    public static float[] CreateBuffer(ICausalLanguageModel model, int maxTokens) =>
        new float[(long)Math.Clamp(maxTokens, 1, ChunkTokens) * model.VocabularySize];

    /// <summary>Appends <paramref name="tokens"/> to <paramref name="cache"/>, passing the rows from <paramref name="firstRow"/> on to <paramref name="handler"/>.</summary>
    public static void Run(ICausalLanguageModel model, KeyValueCache cache, ReadOnlySpan<int> tokens, float[] buffer, int firstRow,
        LogitsRowHandler handler, CancellationToken cancellationToken)
    {
        int vocab = model.VocabularySize;
        int chunk = buffer.Length / vocab;
        for (int start = 0; start < tokens.Length; start += chunk)
        {
            cancellationToken.ThrowIfCancellationRequested();
            int count = Math.Min(chunk, tokens.Length - start);
            var logits = buffer.AsSpan(0, count * vocab);
            model.Forward(tokens.Slice(start, count), cache, logits, cancellationToken);
            for (int r = Math.Max(0, firstRow - start); r < count; r++)
                handler(start + r, logits.Slice(r * vocab, vocab));
        }
    }

    /// <summary>Checks that every token is an id of the model's vocabulary.</summary>
    /// <exception cref="ArgumentException">The first id outside [0, vocabulary size), with its position.</exception>
    public static void CheckTokens(ICausalLanguageModel model, ReadOnlySpan<int> tokens, string what)
    {
        for (int i = 0; i < tokens.Length; i++)
        {
            if ((uint)tokens[i] >= (uint)model.VocabularySize)
                throw new ArgumentException($"{what}: token {tokens[i]} at position {i} is outside the vocabulary (0 to {model.VocabularySize - 1})");
        }
    }
}
