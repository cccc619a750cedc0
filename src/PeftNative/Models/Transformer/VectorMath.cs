using System.Numerics;

namespace PeftNative.Models.Transformer;

/// <summary>The two vector loops of the attention: dot product and y += a·x (Vector&lt;float&gt; wide).</summary>
internal static class VectorMath
{
    public static float Dot(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        var sum = Vector<float>.Zero;
        int i = 0;
        for (; i <= a.Length - Vector<float>.Count; i += Vector<float>.Count)
            sum += new Vector<float>(a[i..]) * new Vector<float>(b[i..]);
        float total = Vector.Sum(sum);
        for (; i < a.Length; i++)
            total += a[i] * b[i];
        return total;
    }

    public static void AddScaled(Span<float> y, float a, ReadOnlySpan<float> x)
    {
        int i = 0;
        var va = new Vector<float>(a);
        for (; i <= y.Length - Vector<float>.Count; i += Vector<float>.Count)
            (new Vector<float>(y[i..]) + va * new Vector<float>(x[i..])).CopyTo(y[i..]);
        for (; i < y.Length; i++)
            y[i] += a * x[i];
    }
}
