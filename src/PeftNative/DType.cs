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
}

/// <summary>Facts about <see cref="DType"/> values.</summary>
public static class DTypeInfo
{
    /// <summary>Bytes per element.</summary>
    public static int SizeOf(this DType dtype) => dtype switch
    {
        DType.F64 or DType.I64 or DType.U64 => 8,
        DType.F32 or DType.I32 or DType.U32 => 4,
        DType.F16 or DType.BF16 or DType.I16 or DType.U16 => 2,
        DType.F8_E4M3 or DType.F8_E5M2 or DType.I8 or DType.U8 or DType.Bool => 1,
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
