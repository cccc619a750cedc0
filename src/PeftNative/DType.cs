namespace PeftNative;

/// <summary>
/// Element types, named as safetensors names them. The kernels compute on <see cref="F32"/>,
/// <see cref="F16"/> and <see cref="BF16"/>; the others are carried as data.
/// </summary>
public enum DType
{
    /// <summary>IEEE binary32.</summary>
    F32,
    /// <summary>IEEE binary16.</summary>
    F16,
    /// <summary>bfloat16 (the top half of a binary32).</summary>
    BF16,
    /// <summary>IEEE binary64.</summary>
    F64,
    /// <summary>8-bit float, 4 exponent bits, 3 mantissa bits (finite-only, NaN = S.1111.111).</summary>
    F8_E4M3,
    /// <summary>8-bit float, 5 exponent bits, 2 mantissa bits.</summary>
    F8_E5M2,
    /// <summary>Signed 64-bit integer.</summary>
    I64,
    /// <summary>Signed 32-bit integer.</summary>
    I32,
    /// <summary>Signed 16-bit integer.</summary>
    I16,
    /// <summary>Signed 8-bit integer.</summary>
    I8,
    /// <summary>Unsigned 64-bit integer.</summary>
    U64,
    /// <summary>Unsigned 32-bit integer.</summary>
    U32,
    /// <summary>Unsigned 16-bit integer.</summary>
    U16,
    /// <summary>Unsigned 8-bit integer.</summary>
    U8,
    /// <summary>Boolean stored as one byte.</summary>
    Bool,
    /// <summary>8-bit float, 8 exponent bits and no mantissa (an MX scale factor).</summary>
    F8_E8M0,
    /// <summary>8-bit float E4M3, "finite, unsigned zero" variant (NaN = 0x80).</summary>
    F8_E4M3FNUZ,
    /// <summary>8-bit float E5M2, "finite, unsigned zero" variant (NaN = 0x80).</summary>
    F8_E5M2FNUZ,
    /// <summary>Complex number, two binary32 (real, imaginary).</summary>
    C64,
    /// <summary>4-bit float E2M1, two elements per byte (sub-byte: see <see cref="DTypeInfo.BitsOf"/>).</summary>
    F4,
    /// <summary>6-bit float E2M3, four elements per three bytes (sub-byte).</summary>
    F6_E2M3,
    /// <summary>6-bit float E3M2, four elements per three bytes (sub-byte).</summary>
    F6_E3M2,
}

/// <summary>Facts about <see cref="DType"/> values.</summary>
public static class DTypeInfo
{
    /// <summary>Bits per element (4 and 6 for the sub-byte floats).</summary>
    public static int BitsOf(this DType dtype) => dtype switch
    {
        DType.F64 or DType.I64 or DType.U64 or DType.C64 => 64,
        DType.F32 or DType.I32 or DType.U32 => 32,
        DType.F16 or DType.BF16 or DType.I16 or DType.U16 => 16,
        DType.F8_E4M3 or DType.F8_E5M2 or DType.F8_E8M0 or DType.F8_E4M3FNUZ or DType.F8_E5M2FNUZ
            or DType.I8 or DType.U8 or DType.Bool => 8,
        DType.F6_E2M3 or DType.F6_E3M2 => 6,
        DType.F4 => 4,
        _ => throw new ArgumentOutOfRangeException(nameof(dtype), dtype, "unknown dtype"),
    };

    /// <summary>True for dtypes narrower than a byte, whose elements do not each have an address.</summary>
    public static bool IsSubByte(this DType dtype) => dtype.BitsOf() < 8;

    /// <summary>Bytes per element.</summary>
    /// <exception cref="InvalidOperationException">A sub-byte dtype (use <see cref="ByteLengthOf"/>).</exception>
    public static int SizeOf(this DType dtype)
    {
        int bits = dtype.BitsOf();
        if (bits < 8)
            throw new InvalidOperationException($"dtype {dtype} is {bits} bits per element and has no whole-byte element size");
        return bits / 8;
    }

    /// <summary>Bytes taken by <paramref name="elementCount"/> elements, packed.</summary>
    /// <exception cref="OverflowException">The size overflows a long.</exception>
    /// <exception cref="ArgumentException">A sub-byte count that does not end on a byte boundary.</exception>
    public static long ByteLengthOf(this DType dtype, long elementCount)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(elementCount);
        long bits = checked(elementCount * dtype.BitsOf());
        if (bits % 8 != 0)
            throw new ArgumentException($"{elementCount} elements of {dtype} ({dtype.BitsOf()} bits each) do not end on a byte boundary", nameof(elementCount));
        return bits / 8;
    }

    /// <summary>The name safetensors uses in a file header ("F32", "BOOL", "F8_E4M3", ...).</summary>
    public static string SafetensorsName(this DType dtype) => dtype == DType.Bool ? "BOOL" : dtype.ToString();

    /// <summary>Parses a safetensors header dtype name exactly (case-sensitive, as the format requires).</summary>
    public static bool TryParseSafetensorsName(string name, out DType dtype)
    {
        ArgumentNullException.ThrowIfNull(name);
        foreach (var d in Enum.GetValues<DType>())
        {
            if (string.Equals(d.SafetensorsName(), name, StringComparison.Ordinal))
            {
                dtype = d;
                return true;
            }
        }
        dtype = default;
        return false;
    }

    /// <summary>
    /// The rank of the dtype in the safetensors reference implementation's Dtype enum (BOOL lowest,
    /// U64 highest). Its writer orders tensors by this rank, descending, then by name.
    /// </summary>
    public static int SafetensorsRank(this DType dtype) => dtype switch
    {
        DType.Bool => 0,
        DType.F4 => 1,
        DType.F6_E2M3 => 2,
        DType.F6_E3M2 => 3,
        DType.U8 => 4,
        DType.I8 => 5,
        DType.F8_E5M2 => 6,
        DType.F8_E4M3 => 7,
        DType.F8_E8M0 => 8,
        DType.F8_E4M3FNUZ => 9,
        DType.F8_E5M2FNUZ => 10,
        DType.I16 => 11,
        DType.U16 => 12,
        DType.F16 => 13,
        DType.BF16 => 14,
        DType.I32 => 15,
        DType.U32 => 16,
        DType.F32 => 17,
        DType.C64 => 18,
        DType.F64 => 19,
        DType.I64 => 20,
        DType.U64 => 21,
        _ => throw new ArgumentOutOfRangeException(nameof(dtype), dtype, "unknown dtype"),
    };

    /// <summary>True for the dtypes the kernels compute on (F32, F16, BF16).</summary>
    public static bool IsKernelFloat(this DType dtype) => dtype is DType.F32 or DType.F16 or DType.BF16;

    /// <summary>The short lower-case name used by the CLI and benchmarks ("f32", "bf16", ...).</summary>
    public static string ShortName(this DType dtype) => dtype.ToString().ToLowerInvariant();

    /// <summary>Parses a short name ("f32", "bf16", "f16", ...) or a safetensors name ("BF16"), case-insensitively.</summary>
    /// <exception cref="ArgumentException">Anything else, numbers and comma lists included.</exception>
    public static DType Parse(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        // Match names only: Enum.TryParse would also take "7" or "F32,F16".
        foreach (var d in Enum.GetValues<DType>())
            if (string.Equals(d.ToString(), name, StringComparison.OrdinalIgnoreCase))
                return d;
        throw new ArgumentException($"unknown dtype '{name}' (expected one of {string.Join(", ", Enum.GetNames<DType>())})", nameof(name));
    }

    /// <summary>The native ABI code of a kernel dtype.</summary>
    internal static Interop.NativeDType ToNative(this DType dtype) => dtype switch
    {
        DType.F32 => Interop.NativeDType.F32,
        DType.F16 => Interop.NativeDType.F16,
        DType.BF16 => Interop.NativeDType.BF16,
        _ => throw new ArgumentException($"dtype {dtype} is not a kernel dtype (f32, f16, bf16)", nameof(dtype)),
    };
}
