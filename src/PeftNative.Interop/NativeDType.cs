namespace PeftNative.Interop;

/// <summary>Storage dtypes of the C ABI (<c>pn_dtype</c>). Values never change.</summary>
public enum NativeDType
{
    /// <summary>IEEE binary32.</summary>
    F32 = 0,
    /// <summary>IEEE binary16.</summary>
    F16 = 1,
    /// <summary>bfloat16.</summary>
    BF16 = 2,
}

/// <summary>Instruction-set levels of the C ABI (<c>pn_isa</c>). Values never change.</summary>
public enum NativeIsa
{
    /// <summary>Portable C.</summary>
    Scalar = 0,
    /// <summary>AVX2 + FMA + F16C.</summary>
    Avx2 = 1,
    /// <summary>AVX-512 F/BW/VL (+BF16 where present).</summary>
    Avx512 = 2,
}
