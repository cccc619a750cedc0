using PeftNative.Models.Transformer;

namespace PeftNative.Tests.Models.Transformer;

/// <summary>KV-cache decoding against full recomputation: token by token, in uneven chunks, and after Truncate.</summary>
internal static class CacheChecks
{
    private const double Rtol = 1e-5;

    public static void Run(string context, ICausalLanguageModel model, int[] tokens)
    {
        int v = model.VocabularySize, n = tokens.Length;
        float[] full = ModelRunner.Logits(model, tokens);

        using var cache = model.CreateCache(n);
        var stepwise = Poisoned(n * v);
        for (int t = 0; t < n; t++)
            model.Forward(tokens.AsSpan(t, 1), cache, stepwise.AsSpan(t * v, v));
        Assert.That(cache.Length, Is.EqualTo(n));
        LogitAssert.Relative($"{context}: token by token", stepwise, full, v, Rtol);

        cache.Truncate(0);
        var chunked = Poisoned(n * v);
        int[] sizes = [3, 1, 5];
        int at = 0;
        for (int c = 0; at < n; c++)
        {
            int size = Math.Min(sizes[c % sizes.Length], n - at);
            model.Forward(tokens.AsSpan(at, size), cache, chunked.AsSpan(at * v, size * v));
            at += size;
        }
        LogitAssert.Relative($"{context}: chunks of 3, 1, 5", chunked, full, v, Rtol);

        // Truncate, then continue with other tokens: equal to recomputing the new sequence.
        int keep = n / 2;
        cache.Truncate(keep);
        Assert.That(cache.Length, Is.EqualTo(keep));
        int[] other = tokens.Take(keep).Concat(tokens.Skip(keep).Select(t => (t + 7) % v)).ToArray();
        var tail = Poisoned((n - keep) * v);
        model.Forward(other.AsSpan(keep), cache, tail);
        float[] fullOther = ModelRunner.Logits(model, other);
        LogitAssert.Relative($"{context}: truncate to {keep} and re-run", tail, fullOther.AsSpan(keep * v).ToArray(), v, Rtol);
        Assert.That(fullOther.AsSpan(keep * v).SequenceEqual(full.AsSpan(keep * v)), Is.False, $"{context}: the changed tokens must change the logits");
    }

    private static float[] Poisoned(int length)
    {
        var a = new float[length];
        Array.Fill(a, float.NaN);
        return a;
    }
}
