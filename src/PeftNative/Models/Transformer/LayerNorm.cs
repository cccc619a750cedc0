namespace PeftNative.Models.Transformer;

/// <summary>GPT-2's LayerNorm: <c>(x − mean) / √(var + eps) · w + b</c>, biased variance, statistics accumulated in float64.</summary>
internal sealed class LayerNorm(float[] weight, float[] bias, float epsilon) : INormalization
{
    public void Apply(ReadOnlySpan<float> x, int rows, Span<float> y)
    {
        int n = weight.Length;
        for (int r = 0; r < rows; r++)
        {
            ReadOnlySpan<float> xr = x.Slice(r * n, n);
            Span<float> yr = y.Slice(r * n, n);
            double sum = 0;
            for (int i = 0; i < n; i++)
                sum += xr[i];
            float mean = (float)(sum / n);
            double sq = 0;
            for (int i = 0; i < n; i++)
            {
                double d = xr[i] - mean;
                sq += d * d;
            }
            float inv = (float)(1.0 / Math.Sqrt(sq / n + epsilon));
            for (int i = 0; i < n; i++)
                yr[i] = (xr[i] - mean) * inv * weight[i] + bias[i];
        }
    }
}
