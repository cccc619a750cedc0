using PeftNative.Models.Transformer;

namespace PeftNative.Tests.Models.Transformer;

/// <summary>Runs a model the ways the tests need: whole sequence, and greedy decoding through the cache.</summary>
internal static class ModelRunner
{
    /// <summary>Logits [T × V] of <paramref name="tokens"/> from an empty cache, poisoned with NaN first.</summary>
    public static float[] Logits(ICausalLanguageModel model, int[] tokens)
    {
        using var cache = model.CreateCache(tokens.Length);
        var logits = new float[tokens.Length * model.VocabularySize];
        Array.Fill(logits, float.NaN);
        model.Forward(tokens, cache, logits);
        return logits;
    }

    /// <summary>Greedy continuation: the prompt in one step, then one token at a time through the cache.</summary>
    public static int[] Greedy(ICausalLanguageModel model, int[] prompt, int count)
    {
        int v = model.VocabularySize;
        using var cache = model.CreateCache(prompt.Length + count);
        var logits = new float[prompt.Length * v];
        model.Forward(prompt, cache, logits);
        var result = new int[count];
        ReadOnlySpan<float> last = logits.AsSpan((prompt.Length - 1) * v, v);
        var step = new float[v];
        for (int i = 0; i < count; i++)
        {
            result[i] = ArgMax(last);
            if (i + 1 == count)
                break;
            model.Forward([result[i]], cache, step);
            last = step;
        }
        return result;
    }

    private static int ArgMax(ReadOnlySpan<float> row)
    {
        int best = 0;
        for (int i = 1; i < row.Length; i++)
        {
            if (row[i] > row[best])
                best = i;
        }
        return best;
    }
}
