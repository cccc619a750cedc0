namespace PeftNative.Models.Transformer;

/// <summary>The residual connection: hidden += delta.</summary>
internal static class Residual
{
    public static void Add(Span<float> hidden, ReadOnlySpan<float> delta) => VectorMath.AddScaled(hidden, 1f, delta);
}
