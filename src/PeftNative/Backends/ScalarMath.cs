namespace PeftNative.Backends;

/// <summary>Element access by dtype for validation and reference code (not for hot loops).</summary>
internal static unsafe class ScalarMath
{
    /// <summary>Reads element <paramref name="index"/> of a kernel-dtype buffer as float.</summary>
    public static float Load(nint data, DType dtype, long index) => dtype switch
    {
        DType.F32 => ((float*)data)[index],
        DType.F16 => (float)((Half*)data)[index],
        DType.BF16 => ((BFloat16*)data)[index].ToSingle(),
        _ => throw new ArgumentException($"dtype {dtype} is not a kernel dtype"),
    };

    /// <summary>Writes a float (rounded once to nearest even) into a kernel-dtype buffer.</summary>
    public static void Store(nint data, DType dtype, long index, float value)
    {
        switch (dtype)
        {
            case DType.F32: ((float*)data)[index] = value; break;
            case DType.F16: ((Half*)data)[index] = (Half)value; break;
            case DType.BF16: ((BFloat16*)data)[index] = BFloat16.FromSingle(value); break;
            default: throw new ArgumentException($"dtype {dtype} is not a kernel dtype");
        }
    }

    /// <summary>Index of the first element equal to zero (either sign), or -1.</summary>
    public static long IndexOfZero(Tensor t)
    {
        for (long i = 0; i < t.ElementCount; i++)
            if (Load(t.Pointer, t.DType, i) == 0f)
                return i;
        return -1;
    }
}
