using System.Runtime.CompilerServices;

namespace PeftNative;

/// <summary>
/// bfloat16: the upper 16 bits of an IEEE binary32. Conversion from float rounds to nearest
/// even and keeps NaN a (quiet) NaN; conversion to float is exact.
/// </summary>
public readonly struct BFloat16 : IEquatable<BFloat16>
{
    /// <summary>The raw bits.</summary>
    public readonly ushort Bits;

    private BFloat16(ushort bits) => Bits = bits;

    /// <summary>Wraps raw bits.</summary>
    public static BFloat16 FromBits(ushort bits) => new(bits);

    /// <summary>Rounds a float to nearest even; NaN stays NaN with its sign.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static BFloat16 FromSingle(float value)
    {
        uint u = BitConverter.SingleToUInt32Bits(value);
        if ((u & 0x7FFF_FFFFu) > 0x7F80_0000u)
            return new BFloat16((ushort)((u >> 16) | 0x0040u)); // quiet the NaN, keep sign and payload top
        u += 0x7FFFu + ((u >> 16) & 1u);
        return new BFloat16((ushort)(u >> 16));
    }

    /// <summary>Exact widening to float.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public float ToSingle() => BitConverter.UInt32BitsToSingle((uint)Bits << 16);

    /// <summary>Rounds to nearest even.</summary>
    public static explicit operator BFloat16(float value) => FromSingle(value);

    /// <summary>Exact widening.</summary>
    public static explicit operator float(BFloat16 value) => value.ToSingle();

    /// <inheritdoc />
    public bool Equals(BFloat16 other) => Bits == other.Bits;

    /// <inheritdoc />
    public override bool Equals(object? obj) => obj is BFloat16 b && Equals(b);

    /// <inheritdoc />
    public override int GetHashCode() => Bits;

    /// <inheritdoc />
    public override string ToString() => ToSingle().ToString(System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>Bitwise equality.</summary>
    public static bool operator ==(BFloat16 left, BFloat16 right) => left.Equals(right);

    /// <summary>Bitwise inequality.</summary>
    public static bool operator !=(BFloat16 left, BFloat16 right) => !left.Equals(right);
}
