namespace PeftNative.Models.Transformer;

/// <summary>Reads f32/f16/bf16 tensor elements as f32 (embedding rows, vectors).</summary>
internal static class TensorRows
{
    /// <summary>The whole tensor as f32 values.</summary>
    public static float[] ToFloats(Tensor t)
    {
        var result = new float[t.ElementCount];
        Widen(t, 0, result);
        return result;
    }

    /// <summary>Widens <c>destination.Length</c> elements starting at element <paramref name="offset"/>.</summary>
    public static void Widen(Tensor t, long offset, Span<float> destination)
    {
        switch (t.DType)
        {
            case DType.F32:
                t.AsSpan<float>().Slice(checked((int)offset), destination.Length).CopyTo(destination);
                break;
            case DType.F16:
                {
                    ReadOnlySpan<Half> s = t.AsSpan<Half>().Slice(checked((int)offset), destination.Length);
                    for (int i = 0; i < s.Length; i++)
                        destination[i] = (float)s[i];
                    break;
                }
            case DType.BF16:
                {
                    ReadOnlySpan<ushort> s = t.AsSpan<ushort>().Slice(checked((int)offset), destination.Length);
                    for (int i = 0; i < s.Length; i++)
                        destination[i] = BitConverter.Int32BitsToSingle(s[i] << 16);
                    break;
                }
            default:
                throw new ArgumentException($"tensor dtype {t.DType} is not F32, F16 or BF16");
        }
    }
}
