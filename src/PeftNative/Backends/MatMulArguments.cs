namespace PeftNative.Backends;

/// <summary>The argument checks every <see cref="IMatMul"/> makes before it touches y.</summary>
internal static class MatMulArguments
{
    /// <summary>Checks the arguments of <see cref="IMatMul.MatMul"/> and returns W's (n, k).</summary>
    /// <exception cref="ArgumentNullException"><paramref name="weight"/> is null.</exception>
    /// <exception cref="ArgumentException">W is not 2-D f32/f16/bf16, m is negative, x or y disagree with m and W, or y overlaps x or W.</exception>
    public static unsafe (int N, int K) Validate(string who, ReadOnlySpan<float> x, int m, Tensor weight, bool weightIsInputMajor, Span<float> y)
    {
        ArgumentNullException.ThrowIfNull(weight);
        if (weight.Rank != 2)
            throw new ArgumentException($"{who}: weight must be 2-D, got {weight.ShapeText}", nameof(weight));
        if (!weight.DType.IsKernelFloat())
            throw new ArgumentException($"{who}: weight dtype {weight.DType} is not f32, f16 or bf16", nameof(weight));
        if (m < 0)
            throw new ArgumentOutOfRangeException(nameof(m), m, $"{who}: m must not be negative");
        long n = weightIsInputMajor ? weight.Shape[1] : weight.Shape[0];
        long k = weightIsInputMajor ? weight.Shape[0] : weight.Shape[1];
        if (n > int.MaxValue || k > int.MaxValue)
            throw new ArgumentException($"{who}: weight {weight.ShapeText} is too large", nameof(weight));
        string layout = weightIsInputMajor ? "(k, n)" : "(n, k)";
        if (x.Length != (long)m * k)
            throw new ArgumentException($"{who}: x has {x.Length} values, expected m x k = {m} x {k} (weight {weight.ShapeText} read as {layout})", nameof(x));
        if (y.Length != (long)m * n)
            throw new ArgumentException($"{who}: y has {y.Length} values, expected m x n = {m} x {n} (weight {weight.ShapeText} read as {layout})", nameof(y));
        fixed (float* xp = x)
        fixed (float* yp = y)
        {
            if (Overlaps((nint)yp, y.Length * 4L, (nint)xp, x.Length * 4L))
                throw new ArgumentException($"{who}: y overlaps x", nameof(y));
            if (Overlaps((nint)yp, y.Length * 4L, weight.Pointer, weight.ByteLength))
                throw new ArgumentException($"{who}: y overlaps the weight", nameof(y));
        }
        return ((int)n, (int)k);
    }

    private static bool Overlaps(nint a, long aBytes, nint b, long bBytes) =>
        aBytes > 0 && bBytes > 0 && a != 0 && b != 0 && (ulong)a < (ulong)b + (ulong)bBytes && (ulong)b < (ulong)a + (ulong)aBytes;
}
