using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace PeftNative.Backends.Managed;

/// <summary>
/// The 128-bit width: <see cref="Vector128{T}"/> of floats. Runs everywhere (emulated where the
/// hardware lacks it); the 16-bit conversions are integer bit manipulations that reproduce the
/// scalar rules of <see cref="ScalarMath"/> exactly.
/// </summary>
internal readonly unsafe struct Simd128 : ISimd<Vector128<float>>
{
    public static int Count => Vector128<float>.Count;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> Broadcast(float value) => Vector128.Create(value);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> Fma(Vector128<float> a, Vector128<float> b, Vector128<float> addend) => Vector128.FusedMultiplyAdd(a, b, addend);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> Multiply(Vector128<float> a, Vector128<float> b) => a * b;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> Add(Vector128<float> a, Vector128<float> b) => a + b;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool AnyNaN(Vector128<float> v) => !Vector128.EqualsAll(v, v);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void StoreBF16NoNaN(ushort* p, Vector128<float> v)
    {
        // Round to nearest even: add 0x7FFF plus the kept half's lowest bit (a compare, not a shift).
        Vector128<int> u = v.AsInt32();
        Vector128<int> odd = Vector128.Equals(u & Vector128.Create(0x1_0000), Vector128.Create(0x1_0000));
        StoreI16(p, (u + Vector128.Create(0x7FFF) - odd) >> 16);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> LoadF32(float* p) => Vector128.Load(p);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void StoreF32(float* p, Vector128<float> v) => v.Store(p);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void StoreF32NonTemporal(float* p, Vector128<float> v) => v.StoreAlignedNonTemporal(p);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> LoadF16(ushort* p) => HalfBitsToSingle(LoadI16(p));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void StoreF16(ushort* p, Vector128<float> v) => StoreI16(p, SingleToHalfBits(v));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void StoreF16NonTemporal(ushort* p, Vector128<float> v) => StoreI16NonTemporal(p, SingleToHalfBits(v));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> LoadBF16(ushort* p) => (LoadI16(p) << 16).AsSingle();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void StoreBF16(ushort* p, Vector128<float> v) => StoreI16(p, SingleToBFloat16Bits(v));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void StoreBF16NonTemporal(ushort* p, Vector128<float> v) => StoreI16NonTemporal(p, SingleToBFloat16Bits(v));

    /// <summary>Loads 4 16-bit values, sign-extended into 32-bit lanes.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<int> LoadI16(ushort* p) => Vector128.WidenLower(Vector128.CreateScalarUnsafe(Unsafe.ReadUnaligned<ulong>(p)).AsInt16());

    /// <summary>Stores 4 lanes holding sign-extended 16-bit values (so a saturating pack is exact).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StoreI16(ushort* p, Vector128<int> bits)
    {
        Vector128<short> packed = Sse2.IsSupported ? Sse2.PackSignedSaturate(bits, bits) : Vector128.Narrow(bits, bits);
        Unsafe.WriteUnaligned(p, packed.AsUInt64().ToScalar());
    }

    // 8 bytes: no non-temporal store of that size in the cross-platform API.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StoreI16NonTemporal(ushort* p, Vector128<int> bits) => StoreI16(p, bits);

    /// <summary>binary16 bits (sign-extended into 32-bit lanes) to float, exactly.</summary>
    /// <remarks>
    /// The 15 magnitude bits shifted into place read as a float 2^-112 times the value (a
    /// subnormal half becomes a subnormal float, still exact), so one multiplication by 2^112
    /// rebiases every finite value exactly. Inf and NaN get the all-ones exponent first; the
    /// multiplication keeps Inf and quiets NaN.
    /// </remarks>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector128<float> HalfBitsToSingle(Vector128<int> h)
    {
        Vector128<int> magnitude = h & Vector128.Create(0x7FFF);
        Vector128<int> special = Vector128.GreaterThan(magnitude, Vector128.Create(0x7BFF)) & Vector128.Create(0x7F80_0000);
        Vector128<float> value = ((magnitude << 13) | special).AsSingle() * Vector128.Create(5.192296858534828e+33f); // 2^112
        return (value.AsInt32() | (h & Vector128.Create(int.MinValue))).AsSingle();
    }

    /// <summary>float to binary16 bits (sign-extended into 32-bit lanes): round to nearest even, overflow to Inf, NaN quieted keeping its top payload.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector128<int> SingleToHalfBits(Vector128<float> v)
    {
        Vector128<int> u = v.AsInt32();
        Vector128<int> a = u & Vector128.Create(int.MaxValue);
        // Normals: rebias (127 -> 15) and round the 13 dropped bits to nearest even in integers;
        // clamping at 65536 makes everything from 65520 up (Inf included) round to Inf.
        Vector128<int> clamped = Vector128.Min(a, Vector128.Create(0x4780_0000));
        Vector128<int> normal = Vector128.ShiftRightLogical(clamped + Vector128.Create(unchecked((int)0xC800_0FFF)) + (Vector128.ShiftRightLogical(clamped, 13) & Vector128<int>.One), 13);
        // Subnormals: adding 0.5 puts the result's ulp at 2^-24, so the FPU rounds to nearest even.
        Vector128<int> subnormal = (a.AsSingle() + Vector128.Create(0.5f)).AsInt32() - Vector128.Create(0x3F00_0000);
        Vector128<int> bits = Vector128.ConditionalSelect(Vector128.LessThan(a, Vector128.Create(0x3880_0000)), subnormal, normal);
        if (Vector128.GreaterThanAny(a, Vector128.Create(0x7F80_0000)))
        {
            // NaN: quiet, keep the top 9 payload bits.
            Vector128<int> nan = (Vector128.ShiftRightLogical(a, 13) - Vector128.Create(0x3_8000)) | Vector128.Create(0x0200);
            bits = Vector128.ConditionalSelect(Vector128.GreaterThan(a, Vector128.Create(0x7F80_0000)), nan, bits);
        }
        return bits | ((u >> 31) << 15);
    }

    /// <summary>float to bfloat16 bits (sign-extended into 32-bit lanes): round to nearest even; NaN keeps sign and top payload and is quieted.</summary>
    /// <remarks>
    /// One shift per vector (shifts and shuffles share few ports on some cores): the odd bit is
    /// tested with a compare, and a NaN has its low half cleared and its quiet bit set before the
    /// rounding add, which then cannot carry into the kept half.
    /// </remarks>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector128<int> SingleToBFloat16Bits(Vector128<float> v)
    {
        Vector128<int> u = v.AsInt32();
        Vector128<int> nan = Vector128.GreaterThan(u & Vector128.Create(int.MaxValue), Vector128.Create(0x7F80_0000));
        u = Vector128.ConditionalSelect(nan, (u | Vector128.Create(0x0040_0000)) & Vector128.Create(unchecked((int)0xFFFF_0000)), u);
        Vector128<int> odd = Vector128.Equals(u & Vector128.Create(0x1_0000), Vector128.Create(0x1_0000));
        return (u + Vector128.Create(0x7FFF) - odd) >> 16;
    }

    // ---- deinterleaved pairs: 2·Count 16-bit values as one integer vector, even-indexed values
    // in the low halves of the 32-bit lanes and odd-indexed in the high halves; widening and
    // narrowing are then shifts, masks and a 16-bit blend, with no pack or lane-crossing permute.

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void LoadBF16x2(ushort* p, out Vector128<float> even, out Vector128<float> odd)
    {
        Vector128<uint> x = Vector128.Load((uint*)p);
        even = (x << 16).AsSingle();
        odd = (x & Vector128.Create(0xFFFF_0000u)).AsSingle();
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void StoreBF16x2(ushort* p, Vector128<float> even, Vector128<float> odd, bool nonTemporal)
    {
        // Inf - Inf also takes the general rounding, which is right for every value.
        if (AnyNaN(even + odd))
            StorePair(p, Vector128.ShiftRightLogical(BFloat16Rounded(even, true), 16), BFloat16Rounded(odd, true), nonTemporal);
        else
            StorePair(p, Vector128.ShiftRightLogical(BFloat16Rounded(even, false), 16), BFloat16Rounded(odd, false), nonTemporal);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void StoreBF16x2NoNaN(ushort* p, Vector128<float> even, Vector128<float> odd, bool nonTemporal)
        => StorePair(p, Vector128.ShiftRightLogical(BFloat16Rounded(even, false), 16), BFloat16Rounded(odd, false), nonTemporal);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void LoadF16x2(ushort* p, out Vector128<float> even, out Vector128<float> odd)
    {
        Vector128<int> x = Vector128.Load((int*)p);
        even = HalfBitsToSingle((x << 16) >> 16);
        odd = HalfBitsToSingle(x >> 16);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void StoreF16x2(ushort* p, Vector128<float> even, Vector128<float> odd, bool nonTemporal)
        => StorePair(p, SingleToHalfBits(even).AsUInt32(), SingleToHalfBits(odd).AsUInt32() << 16, nonTemporal);

    /// <summary>The bfloat16 rounding of <paramref name="v"/> in the high half of each lane (the low half is garbage).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<uint> BFloat16Rounded(Vector128<float> v, bool nan)
    {
        Vector128<int> u = v.AsInt32();
        if (nan)
        {
            Vector128<int> isNaN = Vector128.GreaterThan(u & Vector128.Create(int.MaxValue), Vector128.Create(0x7F80_0000));
            u = Vector128.ConditionalSelect(isNaN, (u | Vector128.Create(0x0040_0000)) & Vector128.Create(unchecked((int)0xFFFF_0000)), u);
        }
        Vector128<int> odd = Vector128.Equals(u & Vector128.Create(0x1_0000), Vector128.Create(0x1_0000));
        return (u + Vector128.Create(0x7FFF) - odd).AsUInt32();
    }

    /// <summary>Stores 2·Count 16-bit values: the even-indexed from the low halves of <paramref name="low"/>'s lanes, the odd-indexed from the high halves of <paramref name="high"/>'s.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StorePair(ushort* p, Vector128<uint> low, Vector128<uint> high, bool nonTemporal)
    {
        Vector128<uint> bits = Sse41.IsSupported
            ? Sse41.Blend(low.AsUInt16(), high.AsUInt16(), 0xAA).AsUInt32()
            : (low & Vector128.Create(0xFFFFu)) | (high & Vector128.Create(0xFFFF_0000u));
        if (nonTemporal)
            bits.StoreAlignedNonTemporal((uint*)p);
        else
            bits.Store((uint*)p);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void StoreBF16Two(ushort* p, Vector128<float> first, Vector128<float> second, bool nonTemporal)
    {
        // Inf - Inf also takes the general rounding, which is right for every value.
        if (AnyNaN(first + second))
            StoreTwo(p, SingleToBFloat16Bits(first), SingleToBFloat16Bits(second), nonTemporal);
        else
            StoreTwo(p, Vector128.ShiftRightArithmetic(BFloat16Rounded(first, false).AsInt32(), 16), Vector128.ShiftRightArithmetic(BFloat16Rounded(second, false).AsInt32(), 16), nonTemporal);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void StoreF16Two(ushort* p, Vector128<float> first, Vector128<float> second, bool nonTemporal)
        => StoreTwo(p, SingleToHalfBits(first), SingleToHalfBits(second), nonTemporal);

    /// <summary>Stores two vectors of lanes holding sign-extended 16-bit values, in order.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StoreTwo(ushort* p, Vector128<int> first, Vector128<int> second, bool nonTemporal)
    {
        Vector128<short> bits = Sse2.IsSupported ? Sse2.PackSignedSaturate(first, second) : Vector128.Narrow(first, second);
        if (nonTemporal)
            bits.StoreAlignedNonTemporal((short*)p);
        else
            bits.Store((short*)p);
    }
}
