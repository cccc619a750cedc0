namespace PeftNative.Models.Transformer;

/// <summary>
/// Rotary position embedding as transformers' LLaMA applies it (rotate_half layout: element i
/// pairs with i + d/2). inv_freq[i] = 1 / θ^(2i/d) and the angle pos · inv_freq are computed in
/// f32 as transformers does; cos and sin of that f32 angle are rounded once to f32.
/// </summary>
internal sealed class RotaryEmbedding
{
    private readonly int _half;
    private readonly float[] _invFreq;
    private float[] _cos = [];
    private float[] _sin = [];
    private int _positions;
    private readonly Lock _grow = new();

    public RotaryEmbedding(int headDim, double theta)
    {
        HeadDim = headDim;
        _half = headDim / 2;
        _invFreq = new float[_half];
        for (int i = 0; i < _half; i++)
            _invFreq[i] = 1f / MathF.Pow((float)theta, (float)(2 * i) / headDim);
    }

    public int HeadDim { get; }

    /// <summary>Makes the table cover positions 0 .. <paramref name="positions"/> − 1 (called before a
    /// forward step, from one thread; the table grows by doubling so long contexts cost no more than they use).</summary>
    public void EnsurePositions(int positions)
    {
        lock (_grow)
            Grow(positions);
    }

    private void Grow(int positions)
    {
        if (positions <= _positions)
            return;
        int n = Math.Max(positions, Math.Min(2 * _positions, int.MaxValue / Math.Max(1, _half)));
        var cos = new float[n * _half];
        var sin = new float[n * _half];
        for (int p = 0; p < n; p++)
        {
            for (int i = 0; i < _half; i++)
            {
                float angle = p * _invFreq[i];
                cos[p * _half + i] = (float)Math.Cos(angle);
                sin[p * _half + i] = (float)Math.Sin(angle);
            }
        }
        // Both arrays extend the old ones, so a concurrent reader mixing old and new sees equal values.
        _cos = cos;
        _sin = sin;
        _positions = n;
    }

    /// <summary>Rotates one head vector in place for position <paramref name="position"/>.</summary>
    public void Apply(Span<float> head, int position)
    {
        ReadOnlySpan<float> cos = _cos.AsSpan(position * _half, _half);
        ReadOnlySpan<float> sin = _sin.AsSpan(position * _half, _half);
        for (int i = 0; i < _half; i++)
        {
            float a = head[i];
            float b = head[i + _half];
            head[i] = a * cos[i] - b * sin[i];
            head[i + _half] = b * cos[i] + a * sin[i];
        }
    }
}
