using Bits = ILGPU.Interop;

namespace PeftNative.Backends.Ilgpu;

/// <summary>
/// f16 and bf16 conversions written with integer bit operations, so that every ILGPU accelerator
/// (CPU or PTX) gives the same bits as the other backends: round to nearest even, f16 overflow
/// to ±Inf, NaN stays NaN (quieted when narrowing, sign kept). 16-bit values travel as their
/// <see cref="ushort"/> bits; ILGPU's own Half is not used, so no conversion depends on how an
/// accelerator implements it.
/// </summary>
internal static class IlgpuFloatBits
{
    /// <summary>f16 bits to f32 (exact; a NaN keeps its sign and payload).</summary>
    public static float HalfToSingle(ushort h)
    {
        uint sign = (uint)(h & 0x8000) << 16;
        uint exponent = (uint)(h >> 10) & 0x1F;
        uint mantissa = (uint)h & 0x3FF;
        if (exponent == 0x1F)
            return Bits.IntAsFloat(sign | 0x7F80_0000u | (mantissa << 13));
        if (exponent == 0)
        {
            // zero or subnormal: mantissa · 2^-24, exact in f32 (and a normal f32, so no flush-to-zero can touch it)
            float magnitude = mantissa * Bits.IntAsFloat(0x3380_0000u);
            return Bits.IntAsFloat(Bits.FloatAsInt(magnitude) | sign);
        }
        return Bits.IntAsFloat(sign | ((exponent + 112) << 23) | (mantissa << 13));
    }

    /// <summary>f32 to f16 bits, round to nearest even; |x| &gt;= 65520 gives ±Inf.</summary>
    public static ushort SingleToHalf(float value)
    {
        uint x = Bits.FloatAsInt(value);
        uint sign = (x >> 16) & 0x8000;
        uint ax = x & 0x7FFF_FFFF;
        if (ax > 0x7F80_0000)
            return (ushort)(sign | 0x7E00 | ((ax >> 13) & 0x3FF)); // NaN: quiet bit set, top of the payload kept
        if (ax >= 0x477F_F000)
            return (ushort)(sign | 0x7C00); // >= 65520 (the tie above 65504 rounds up) and Inf
        if (ax >= 0x3880_0000)
        {
            // normal f16: rebias the exponent (127 - 15 = 112) and round the 13 dropped bits to even
            return (ushort)(sign | ((ax - 0x3800_0000 + 0x0FFF + ((ax >> 13) & 1)) >> 13));
        }
        if (ax <= 0x3300_0000)
            return (ushort)sign; // <= 2^-25: the tie at 2^-25 rounds to the even zero
        // subnormal f16: the value in units of 2^-24 is the full mantissa shifted right by 126 - exponent (14..24)
        uint biased = ax >> 23;
        uint mantissa = (ax & 0x007F_FFFF) | 0x0080_0000;
        int shift = (int)(126 - biased);
        uint h = mantissa >> shift;
        uint rest = mantissa & ((1u << shift) - 1);
        uint half = 1u << (shift - 1);
        if (rest > half || (rest == half && (h & 1) != 0))
            h++;
        return (ushort)(sign | h);
    }

    /// <summary>bf16 bits to f32 (exact).</summary>
    public static float BFloat16ToSingle(ushort b) => Bits.IntAsFloat((uint)b << 16);

    /// <summary>f32 to bf16 bits, round to nearest even (overflow rounds to ±Inf by itself).</summary>
    public static ushort SingleToBFloat16(float value)
    {
        uint x = Bits.FloatAsInt(value);
        if ((x & 0x7FFF_FFFF) > 0x7F80_0000)
            return (ushort)((x >> 16) | 0x0040); // NaN: quiet bit set, sign and top of the payload kept
        return (ushort)((x + 0x7FFF + ((x >> 16) & 1)) >> 16);
    }
}
