using MathNet.Numerics.LinearAlgebra;

namespace PeftNative.Composition;

/// <summary>
/// Conversions between kernel-dtype tensors (F32, F16, BF16, row-major) and float64 arrays or
/// MathNet matrices, for the methods that work in float64 (exact, svd and PEFT's operators).
/// Writing to a 16-bit dtype rounds once from float32 (float64 → float32 → 16-bit).
/// </summary>
internal static class FactorMatrices
{
    /// <summary>The elements of <paramref name="tensor"/> as float64, row-major.</summary>
    public static double[] ToDoubles(Tensor tensor, double scale = 1.0)
    {
        var result = new double[checked((int)tensor.ElementCount)];
        CopyTo(tensor, result, scale);
        return result;
    }

    /// <summary>Writes scale * element j of <paramref name="tensor"/> to destination[j].</summary>
    public static void CopyTo(Tensor tensor, Span<double> destination, double scale = 1.0)
    {
        switch (tensor.DType)
        {
            case DType.F32:
                {
                    var s = tensor.AsSpan<float>();
                    for (int i = 0; i < s.Length; i++)
                        destination[i] = scale * s[i];
                    break;
                }
            case DType.F16:
                {
                    var s = tensor.AsSpan<Half>();
                    for (int i = 0; i < s.Length; i++)
                        destination[i] = scale * (double)s[i];
                    break;
                }
            case DType.BF16:
                {
                    var s = tensor.AsSpan<BFloat16>();
                    for (int i = 0; i < s.Length; i++)
                        destination[i] = scale * s[i].ToSingle();
                    break;
                }
            default:
                throw new ArgumentException($"tensor dtype {tensor.DType} is not F32, F16 or BF16", nameof(tensor));
        }
    }

    /// <summary>A 2-D tensor as a float64 matrix, every element times <paramref name="scale"/>.</summary>
    public static Matrix<double> ToMatrix(Tensor tensor, double scale = 1.0)
    {
        if (tensor.Rank != 2)
            throw new ArgumentException($"expected a matrix, got shape {tensor.ShapeText}", nameof(tensor));
        int rows = checked((int)tensor.Shape[0]), cols = checked((int)tensor.Shape[1]);
        return Matrix<double>.Build.DenseOfRowMajor(rows, cols, ToDoubles(tensor, scale));
    }

    /// <summary>A new owned tensor of <paramref name="dtype"/> holding <paramref name="matrix"/>.</summary>
    public static Tensor ToTensor(Matrix<double> matrix, DType dtype) => ToTensor(matrix.ToRowMajorArray(), dtype, matrix.RowCount, matrix.ColumnCount);

    /// <summary>A new owned tensor of <paramref name="dtype"/> and <paramref name="shape"/> holding <paramref name="data"/> (row-major).</summary>
    public static Tensor ToTensor(ReadOnlySpan<double> data, DType dtype, params long[] shape)
    {
        var tensor = Tensor.Allocate(dtype, shape);
        try
        {
            Store(data, tensor);
            return tensor;
        }
        catch
        {
            tensor.Dispose();
            throw;
        }
    }

    /// <summary>Writes <paramref name="data"/> into <paramref name="tensor"/> (same element count), rounding to its dtype.</summary>
    public static void Store(ReadOnlySpan<double> data, Tensor tensor)
    {
        if (data.Length != tensor.ElementCount)
            throw new ArgumentException($"{data.Length} values for a tensor of {tensor.ElementCount} elements", nameof(data));
        switch (tensor.DType)
        {
            case DType.F32:
                {
                    var d = tensor.AsSpan<float>();
                    for (int i = 0; i < d.Length; i++)
                        d[i] = (float)data[i];
                    break;
                }
            case DType.F16:
                {
                    var d = tensor.AsSpan<Half>();
                    for (int i = 0; i < d.Length; i++)
                        d[i] = (Half)(float)data[i];
                    break;
                }
            case DType.BF16:
                {
                    var d = tensor.AsSpan<BFloat16>();
                    for (int i = 0; i < d.Length; i++)
                        d[i] = BFloat16.FromSingle((float)data[i]);
                    break;
                }
            default:
                throw new ArgumentException($"tensor dtype {tensor.DType} is not F32, F16 or BF16", nameof(tensor));
        }
    }

    /// <summary>The dense update s * B @ A (out x in, row-major float64) of one module; no transpose for fan_in_fan_out (the factors' own orientation).</summary>
    public static double[] DenseUpdate(Tensor b, Tensor a, double scale)
    {
        int outF = checked((int)b.Shape[0]), rank = checked((int)b.Shape[1]), inF = checked((int)a.Shape[1]);
        double[] bd = ToDoubles(b, scale), ad = ToDoubles(a);
        var result = new double[checked(outF * inF)];
        for (int o = 0; o < outF; o++)
        {
            var row = result.AsSpan(o * inF, inF);
            for (int k = 0; k < rank; k++)
            {
                double w = bd[(o * rank) + k];
                if (w == 0)
                    continue;
                var aRow = ad.AsSpan(k * inF, inF);
                for (int j = 0; j < inF; j++)
                    row[j] += w * aRow[j];
            }
        }
        return result;
    }
}
