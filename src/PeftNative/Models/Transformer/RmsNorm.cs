namespace PeftNative.Models.Transformer;

/// <summary>LLaMA's RMSNorm as transformers computes it: <c>w · (x · rsqrt(mean(x²) + eps))</c> (mean accumulated in float64).</summary>
internal sealed class RmsNorm(float[] weight, float epsilon) : INormalization
{
    public void Apply(ReadOnlySpan<float> x, int rows, Span<float> y)
    {
        int n = weight.Length;
        for (int r = 0; r < rows; r++)
        {
            ReadOnlySpan<float> xr = x.Slice(r * n, n);
            Span<float> yr = y.Slice(r * n, n);
            double sq = 0;
            for (int i = 0; i < n; i++)
                sq += (double)xr[i] * xr[i];
            float inv = (float)(1.0 / Math.Sqrt((float)(sq / n) + epsilon));
            for (int i = 0; i < n; i++)
                yr[i] = weight[i] * (xr[i] * inv);
        }
    }
}
