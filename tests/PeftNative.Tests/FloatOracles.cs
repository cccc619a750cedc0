namespace PeftNative.Tests;

/// <summary>
/// Independent float64-based definitions of the conversions, written from the IEEE rules and not
/// from the bit tricks the library uses: find the two representable neighbours of the exact
/// value, take the nearer, on a tie the one with an even last mantissa bit; beyond the largest
/// finite value plus half an ulp, infinity. NaN handling is checked separately (any NaN, sign
/// kept, quiet bit set).
/// </summary>
public static class FloatOracles
{
    private static readonly double[] HalfValues = BuildHalfValues();

    /// <summary>Exact value of f16 bits (NaN for NaN patterns).</summary>
    public static double HalfBitsToDouble(ushort bits)
    {
        int sign = bits >> 15, exp = (bits >> 10) & 0x1F, man = bits & 0x3FF;
        double v = exp switch
        {
            0 => Math.ScaleB(man, -24),
            0x1F => man == 0 ? double.PositiveInfinity : double.NaN,
            _ => Math.ScaleB(1024 + man, exp - 25),
        };
        return sign == 1 ? -v : v;
    }

    /// <summary>Exact value of bf16 bits (NaN for NaN patterns).</summary>
    public static double BFloat16BitsToDouble(ushort bits)
    {
        int sign = bits >> 15, exp = (bits >> 7) & 0xFF, man = bits & 0x7F;
        double v = exp switch
        {
            0 => Math.ScaleB(man, -133),
            0xFF => man == 0 ? double.PositiveInfinity : double.NaN,
            _ => Math.ScaleB(128 + man, exp - 134),
        };
        return sign == 1 ? -v : v;
    }

    /// <summary>True for a 16-bit NaN pattern of the dtype.</summary>
    public static bool IsNaN16(DType dtype, ushort bits) => dtype == DType.F16
        ? (bits & 0x7C00) == 0x7C00 && (bits & 0x03FF) != 0
        : (bits & 0x7F80) == 0x7F80 && (bits & 0x007F) != 0;

    /// <summary>RNE of a non-NaN double to f16 bits.</summary>
    public static ushort ToHalfBits(double x)
    {
        if (double.IsNaN(x))
            throw new ArgumentException("NaN has no single expected pattern", nameof(x));
        ushort sign = (ushort)(double.IsNegative(x) ? 0x8000 : 0);
        double a = Math.Abs(x);
        if (a >= 65520.0)
            return (ushort)(sign | 0x7C00);
        // largest index with HalfValues[i] <= a
        int lo = 0, hi = HalfValues.Length - 1;
        while (lo < hi)
        {
            int mid = (lo + hi + 1) / 2;
            if (HalfValues[mid] <= a) lo = mid; else hi = mid - 1;
        }
        if (HalfValues[lo] == a || lo == HalfValues.Length - 1)
            return (ushort)(sign | lo);
        double down = a - HalfValues[lo], up = HalfValues[lo + 1] - a;
        int pick = down < up ? lo : up < down ? lo + 1 : (lo % 2 == 0 ? lo : lo + 1);
        return (ushort)(sign | pick);
    }

    /// <summary>RNE of a non-NaN float to bf16 bits.</summary>
    public static ushort ToBFloat16Bits(float x)
    {
        if (float.IsNaN(x))
            throw new ArgumentException("NaN has no single expected pattern", nameof(x));
        if (float.IsInfinity(x))
            return (ushort)(BitConverter.SingleToUInt32Bits(x) >> 16);
        uint u = BitConverter.SingleToUInt32Bits(x);
        uint sign = u & 0x8000_0000u;
        uint magBits = u & 0x7FFF_FFFFu;
        uint loBits = magBits & 0xFFFF_0000u;          // toward zero
        uint hiBits = loBits + 0x0001_0000u;            // away from zero (0x7F80_0000 is +Inf: the IEEE overflow rule)
        double a = Math.Abs((double)x);
        double loV = BitConverter.UInt32BitsToSingle(loBits);
        double hiV = hiBits == 0x7F80_0000u ? Math.ScaleB(1.0, 128) : BitConverter.UInt32BitsToSingle(hiBits);
        if (loV == a)
            return (ushort)((sign | loBits) >> 16);
        double down = a - loV, up = hiV - a;
        uint pick = down < up ? loBits : up < down ? hiBits : ((loBits >> 16) % 2 == 0 ? loBits : hiBits);
        return (ushort)((sign | pick) >> 16);
    }

    /// <summary>Expected 16-bit pattern of a non-NaN float in <paramref name="dtype"/>.</summary>
    public static ushort To16(DType dtype, float x) => dtype == DType.F16 ? ToHalfBits(x) : ToBFloat16Bits(x);

    private static double[] BuildHalfValues()
    {
        var v = new double[0x7C00]; // every finite non-negative f16, ascending with the bits
        for (int i = 0; i < v.Length; i++)
            v[i] = HalfBitsToDouble((ushort)i);
        return v;
    }
}
