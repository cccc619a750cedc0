using System.Numerics;

namespace PeftNative.Backends.Managed;

/// <summary>Managed matrix product (Vector&lt;float&gt; dot products, rows in parallel).</summary>
public sealed class ManagedMatMul : IMatMul
{
    /// <summary>Creates the managed product.</summary>
    /// <param name="threads">Worker threads (&lt;= 0: all logical CPUs).</param>
    public ManagedMatMul(int threads = 0) => Threads = threads <= 0 ? Environment.ProcessorCount : threads;

    /// <inheritdoc/>
    public string Name => "managed";

    /// <inheritdoc/>
    public int Threads { get; }

    /// <inheritdoc/>
    public void MatMul(ReadOnlySpan<float> x, int m, Tensor weight, bool weightIsInputMajor, Span<float> y, bool accumulate = false)
    {
        ArgumentNullException.ThrowIfNull(weight);
        if (weight.Rank != 2)
            throw new ArgumentException($"weight must be 2-D, got {weight.ShapeText}", nameof(weight));
        int n = (int)(weightIsInputMajor ? weight.Shape[1] : weight.Shape[0]);
        int k = (int)(weightIsInputMajor ? weight.Shape[0] : weight.Shape[1]);
        if (m < 0 || x.Length != (long)m * k)
            throw new ArgumentException($"x has {x.Length} values, expected {m} x {k}", nameof(x));
        if (y.Length != (long)m * n)
            throw new ArgumentException($"y has {y.Length} values, expected {m} x {n}", nameof(y));

        // W as f32, laid out (n, k) so every output is one contiguous dot product.
        float[] w = new float[(long)n * k];
        ToFloat32(weight, w);
        if (weightIsInputMajor)
            w = Transpose(w, k, n);

        float[] xs = x.ToArray();
        float[] ys = y.ToArray();
        Parallel.For(0, m, new ParallelOptions { MaxDegreeOfParallelism = Threads }, row =>
        {
            ReadOnlySpan<float> xr = xs.AsSpan(row * k, k);
            Span<float> yr = ys.AsSpan(row * n, n);
            for (int j = 0; j < n; j++)
            {
                float dot = Dot(xr, w.AsSpan(j * k, k));
                yr[j] = accumulate ? yr[j] + dot : dot;
            }
        });
        ys.CopyTo(y);
    }

    private static void ToFloat32(Tensor weight, float[] destination)
    {
        switch (weight.DType)
        {
            case DType.F32: weight.AsSpan<float>().CopyTo(destination); break;
            case DType.F16:
                {
                    ReadOnlySpan<Half> s = weight.AsSpan<Half>();
                    for (int i = 0; i < s.Length; i++) destination[i] = (float)s[i];
                    break;
                }
            case DType.BF16:
                {
                    ReadOnlySpan<ushort> s = weight.AsSpan<ushort>();
                    for (int i = 0; i < s.Length; i++) destination[i] = BitConverter.Int32BitsToSingle(s[i] << 16);
                    break;
                }
            default:
                throw new ArgumentException($"weight dtype {weight.DType} is not f32, f16 or bf16", nameof(weight));
        }
    }

    private static float[] Transpose(float[] source, int rows, int cols)
    {
        var result = new float[source.Length];
        for (int r = 0; r < rows; r++)
            for (int c = 0; c < cols; c++)
                result[c * rows + r] = source[r * cols + c];
        return result;
    }

    private static float Dot(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
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

    /// <inheritdoc/>
    public void Dispose() { }
}
