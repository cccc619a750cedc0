namespace PeftNative.Merging;

/// <summary>Reads single elements of float tensors as doubles (for checks on small vectors and for reports).</summary>
internal static unsafe class FloatValues
{
    /// <summary>Element <paramref name="index"/> of a F64/F32/F16/BF16 tensor.</summary>
    public static double Get(Tensor tensor, long index) => Get(tensor.Pointer, tensor.DType, index);

    /// <summary>Element <paramref name="index"/> of F64/F32/F16/BF16 data at <paramref name="data"/>.</summary>
    public static double Get(nint data, DType dtype, long index) => dtype switch
    {
        DType.F64 => ((double*)data)[index],
        DType.F32 => ((float*)data)[index],
        DType.F16 => (double)((Half*)data)[index],
        DType.BF16 => ((BFloat16*)data)[index].ToSingle(),
        _ => throw new ArgumentException($"{dtype} is not a float dtype", nameof(dtype)),
    };

    /// <summary>Index of the first zero (±0) of the tensor, or -1.</summary>
    public static long IndexOfZero(Tensor tensor)
    {
        for (long i = 0; i < tensor.ElementCount; i++)
        {
            if (Get(tensor, i) == 0)
                return i;
        }
        return -1;
    }
}
