namespace PeftNative.Models.Transformer;

/// <summary>
/// Causal multi-head attention over the KV cache with grouped-query heads (query head h reads
/// key/value head h / (heads / kv heads)), an optional rotary embedding on q and k, an optional
/// sliding window (a query at position p sees keys p − window + 1 .. p, as transformers' Mistral
/// mask) and softmax in f32 with the running maximum subtracted.
/// </summary>
internal sealed class CausalSelfAttention(int heads, int keyValueHeads, int headDim, float scale, RotaryEmbedding? rotary, int slidingWindow)
{
    /// <summary>
    /// Rotates q and k in place, appends k and v (rows <paramref name="start"/> .. start + m − 1)
    /// to the cache and writes the attention output (m × heads·headDim) to <paramref name="output"/>.
    /// q is m × heads·headDim, k and v are m × kvHeads·headDim.
    /// </summary>
    public void Forward(ForwardContext context, float[] q, float[] k, float[] v, int m, int start, TransformerKeyValueCache cache, int layer, float[] output)
    {
        int capacity = cache.Capacity;
        float[] keys = cache.Keys(layer);
        float[] values = cache.Values(layer);
        int qWidth = heads * headDim, kvWidth = keyValueHeads * headDim;
        for (int t = 0; t < m; t++)
        {
            for (int h = 0; h < keyValueHeads; h++)
            {
                Span<float> kh = k.AsSpan(t * kvWidth + h * headDim, headDim);
                rotary?.Apply(kh, start + t);
                long dst = ((long)h * capacity + start + t) * headDim;
                kh.CopyTo(keys.AsSpan((int)dst, headDim));
                v.AsSpan(t * kvWidth + h * headDim, headDim).CopyTo(values.AsSpan((int)dst, headDim));
            }
        }
        int group = heads / keyValueHeads;
        System.Threading.Tasks.Parallel.For(0, m * heads, context.Parallel, () => new float[start + m], (job, _, scores) =>
        {
            int t = job / heads, h = job % heads;
            int position = start + t;
            int kvh = h / group;
            Span<float> qh = q.AsSpan(t * qWidth + h * headDim, headDim);
            rotary?.Apply(qh, position);
            int first = slidingWindow > 0 ? Math.Max(0, position - slidingWindow + 1) : 0;
            int count = position - first + 1;
            ReadOnlySpan<float> headKeys = keys.AsSpan((kvh * capacity + first) * headDim, count * headDim);
            ReadOnlySpan<float> headValues = values.AsSpan((kvh * capacity + first) * headDim, count * headDim);
            float max = float.NegativeInfinity;
            for (int j = 0; j < count; j++)
            {
                float s = VectorMath.Dot(qh, headKeys.Slice(j * headDim, headDim)) * scale;
                scores[j] = s;
                if (s > max)
                    max = s;
            }
            float sum = 0;
            for (int j = 0; j < count; j++)
            {
                float e = MathF.Exp(scores[j] - max);
                scores[j] = e;
                sum += e;
            }
            float inv = 1f / sum;
            Span<float> o = output.AsSpan(t * qWidth + h * headDim, headDim);
            o.Clear();
            for (int j = 0; j < count; j++)
            {
                float p = scores[j] * inv;
                VectorMath.AddScaled(o, p, headValues.Slice(j * headDim, headDim));
            }
            return scores;
        }, _ => { });
    }
}
