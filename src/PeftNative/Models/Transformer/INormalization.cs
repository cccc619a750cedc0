namespace PeftNative.Models.Transformer;

/// <summary>A per-row normalisation (LayerNorm or RMSNorm) over the hidden size.</summary>
internal interface INormalization
{
    /// <summary>Normalises each of the <paramref name="rows"/> rows of <paramref name="x"/> into <paramref name="y"/>.</summary>
    void Apply(ReadOnlySpan<float> x, int rows, Span<float> y);
}
