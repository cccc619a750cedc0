using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace PeftNative.Backends.Managed;

/// <summary>
/// The 256-bit width: <see cref="Vector256{T}"/> of floats. Runs everywhere (emulated where the
/// hardware lacks it); the 16-bit conversions are integer bit manipulations that reproduce the
/// scalar rules of <see cref="ScalarMath"/> exactly.
/// </summary>
internal readonly unsafe struct Simd256 : ISimd<Vector256<float>>
{
    public static int Count => Vector256<float>.Count;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Broadcast(float value) => Vector256.Create(value);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Fma(Vector256<float> a, Vector256<float> b, Vector256<float> addend) => Vector256.FusedMultiplyAdd(a, b, addend);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Multiply(Vector256<float> a, Vector256<float> b) => a * b;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Add(Vector256<float> a, Vector256<float> b) => a + b;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool AnyNaN(Vector256<float> v) => !Vector256.EqualsAll(v, v);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void StoreBF16NoNaN(ushort* p, Vector256<float> v)
    {
        // Round to nearest even: add 0x7FFF plus the kept half's lowest bit (a compare, not a shift).
        Vector256<int> u = v.AsInt32();
        Vector256<int> odd = Vector256.Equals(u & Vector256.Create(0x1_0000), Vector256.Create(0x1_0000));
        StoreI16(p, (u + Vector256.Create(0x7FFF) - odd) >> 16);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> LoadF32(float* p) => Vector256.Load(p);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void StoreF32(float* p, Vector256<float> v) => v.Store(p);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void StoreF32NonTemporal(float* p, Vector256<float> v) => v.StoreAlignedNonTemporal(p);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> LoadF16(ushort* p) => HalfBitsToSingle(LoadI16(p));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void StoreF16(ushort* p, Vector256<float> v) => StoreI16(p, SingleToHalfBits(v));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void StoreF16NonTemporal(ushort* p, Vector256<float> v) => StoreI16NonTemporal(p, SingleToHalfBits(v));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> LoadBF16(ushort* p) => (LoadI16(p) << 16).AsSingle();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void StoreBF16(ushort* p, Vector256<float> v) => StoreI16(p, SingleToBFloat16Bits(v));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void StoreBF16NonTemporal(ushort* p, Vector256<float> v) => StoreI16NonTemporal(p, SingleToBFloat16Bits(v));

    /// <summary>Loads 8 16-bit values, sign-extended into 32-bit lanes.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<int> LoadI16(ushort* p) => Vector256.WidenLower(Vector128.Load((short*)p).ToVector256Unsafe());

    /// <summary>Packs 8 lanes holding sign-extended 16-bit values (so a saturating pack is exact) into 8 shorts.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<short> PackI16(Vector256<int> bits)
    {
        if (Avx2.IsSupported)
        {
            // vpackssdw packs within 128-bit lanes; gather quadwords 0 and 2.
            return Avx2.Permute4x64(Avx2.PackSignedSaturate(bits, bits).AsInt64(), 0b10_00_10_00).AsInt16().GetLower();
        }
        return Vector256.Narrow(bits, bits).GetLower();
    }

    /// <summary>Stores 8 lanes holding sign-extended 16-bit values.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StoreI16(ushort* p, Vector256<int> bits) => PackI16(bits).Store((short*)p);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StoreI16NonTemporal(ushort* p, Vector256<int> bits) => PackI16(bits).StoreAlignedNonTemporal((short*)p);

    /// <summary>binary16 bits (sign-extended into 32-bit lanes) to float, exactly.</summary>
    /// <remarks>
    /// The 15 magnitude bits shifted into place read as a float 2^-112 times the value (a
    /// subnormal half becomes a subnormal float, still exact), so one multiplication by 2^112
    /// rebiases every finite value exactly. Inf and NaN get the all-ones exponent first; the
    /// multiplication keeps Inf and quiets NaN.
    /// </remarks>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector256<float> HalfBitsToSingle(Vector256<int> h)
    {
        Vector256<int> magnitude = h & K(KMagnitude16);
        Vector256<int> special = Vector256.GreaterThan(magnitude, K(KMaxFinite16)) & K(KExponent32);
        Vector256<float> value = ((magnitude << 13) | special).AsSingle() * K(KTwoTo112).AsSingle();
        return (value.AsInt32() | (h & K(KSign32))).AsSingle();
    }

    /// <summary>float to binary16 bits (sign-extended into 32-bit lanes): round to nearest even, overflow to Inf, NaN quieted keeping its top payload.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector256<int> SingleToHalfBits(Vector256<float> v)
    {
        Vector256<int> u = v.AsInt32();
        return HalfMagnitude(u & K(KMagnitude32)) | ((u >> 16) & K(KSignExtended16));
    }

    /// <summary>
    /// The binary16 magnitude bits (in the low 15 bits) of a float magnitude <paramref name="a"/>:
    /// round to nearest even, overflow to Inf, NaN quieted keeping its top payload.
    /// </summary>
    /// <remarks>
    /// Written with one vector shift (a single port on some cores, and 2 µops for 256 bits on
    /// others): the rounding bit is tested with a compare, whose all-ones result is subtracted.
    /// </remarks>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<int> HalfMagnitude(Vector256<int> a)
    {
        // Normals: rebias (127 -> 15) and round the 13 dropped bits to nearest even in integers;
        // clamping at 65536 makes everything from 65520 up (Inf included) round to Inf.
        Vector256<int> clamped = Vector256.Min(a, K(KClamp16));
        Vector256<int> odd = Vector256.Equals(clamped & K(KBit13), K(KBit13));
        Vector256<int> normal = Vector256.ShiftRightLogical(clamped + K(KRebias16) - odd, 13);
        // Subnormals: adding 0.5 puts the result's ulp at 2^-24, so the FPU rounds to nearest even.
        Vector256<int> subnormal = (a.AsSingle() + K(KHalf).AsSingle()).AsInt32() - K(KHalf);
        Vector256<int> bits = Vector256.ConditionalSelect(Vector256.LessThan(a, K(KMinNormal16)), subnormal, normal);
        if (Vector256.GreaterThanAny(a, K(KExponent32)))
        {
            // NaN: quiet, keep the top 9 payload bits.
            Vector256<int> nan = (Vector256.ShiftRightLogical(a, 13) - Vector256.Create(0x3_8000)) | Vector256.Create(0x0200);
            bits = Vector256.ConditionalSelect(Vector256.GreaterThan(a, K(KExponent32)), nan, bits);
        }
        return bits;
    }

    /// <summary>
    /// Widens binary16 values whose 15 magnitude bits sit at bits 13..27 of each lane and whose
    /// sign is bit 31 (other bits ignored), exactly; the rule of <see cref="HalfBitsToSingle"/>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> HalfBitsAt13ToSingle(Vector256<int> h)
    {
        Vector256<int> magnitude = h & K(KMagnitude16At13);
        Vector256<int> special = Vector256.GreaterThan(magnitude, K(KMaxFinite16At13)) & K(KExponent32);
        Vector256<float> value = (magnitude | special).AsSingle() * K(KTwoTo112).AsSingle();
        return (value.AsInt32() | (h & K(KSign32))).AsSingle();
    }

    /// <summary>float to bfloat16 bits (sign-extended into 32-bit lanes): round to nearest even; NaN keeps sign and top payload and is quieted.</summary>
    /// <remarks>
    /// One shift per vector (shifts and shuffles share few ports on some cores): the odd bit is
    /// tested with a compare, and a NaN has its low half cleared and its quiet bit set before the
    /// rounding add, which then cannot carry into the kept half.
    /// </remarks>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector256<int> SingleToBFloat16Bits(Vector256<float> v)
    {
        Vector256<int> u = v.AsInt32();
        Vector256<int> nan = Vector256.GreaterThan(u & Vector256.Create(int.MaxValue), Vector256.Create(0x7F80_0000));
        u = Vector256.ConditionalSelect(nan, (u | Vector256.Create(0x0040_0000)) & Vector256.Create(unchecked((int)0xFFFF_0000)), u);
        Vector256<int> odd = Vector256.Equals(u & Vector256.Create(0x1_0000), Vector256.Create(0x1_0000));
        return (u + Vector256.Create(0x7FFF) - odd) >> 16;
    }

    // ---- deinterleaved pairs: 2·Count 16-bit values as one integer vector, even-indexed values
    // in the low halves of the 32-bit lanes and odd-indexed in the high halves; widening and
    // narrowing are then shifts, masks and a 16-bit blend, with no pack or lane-crossing permute.

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void LoadBF16x2(ushort* p, out Vector256<float> even, out Vector256<float> odd)
    {
        Vector256<uint> x = Vector256.Load((uint*)p);
        even = (x << 16).AsSingle();
        odd = (x & Vector256.Create(0xFFFF_0000u)).AsSingle();
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void StoreBF16x2(ushort* p, Vector256<float> even, Vector256<float> odd, bool nonTemporal)
    {
        // Inf - Inf also takes the general rounding, which is right for every value.
        if (AnyNaN(even + odd))
            StorePair(p, Vector256.ShiftRightLogical(BFloat16Rounded(even, true), 16), BFloat16Rounded(odd, true), nonTemporal);
        else
            StorePair(p, Vector256.ShiftRightLogical(BFloat16Rounded(even, false), 16), BFloat16Rounded(odd, false), nonTemporal);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void StoreBF16x2NoNaN(ushort* p, Vector256<float> even, Vector256<float> odd, bool nonTemporal)
        => StorePair(p, Vector256.ShiftRightLogical(BFloat16Rounded(even, false), 16), BFloat16Rounded(odd, false), nonTemporal);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void LoadF16x2(ushort* p, out Vector256<float> even, out Vector256<float> odd)
    {
        // Shifted so that each half's magnitude lands at bits 13..27 and its sign at bit 31 (three shifts for both).
        Vector256<int> x = Vector256.Load((int*)p);
        even = HalfBitsAt13ToSingle((x << 16) >> 3);
        odd = HalfBitsAt13ToSingle(x >> 3);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void StoreF16x2(ushort* p, Vector256<float> even, Vector256<float> odd, bool nonTemporal)
    {
        Vector256<int> u = odd.AsInt32();
        Vector256<int> high = (HalfMagnitude(u & K(KMagnitude32)) << 16) | (u & K(KSign32));
        StorePair(p, SingleToHalfBits(even).AsUInt32(), high.AsUInt32(), nonTemporal);
    }

    /// <summary>The bfloat16 rounding of <paramref name="v"/> in the high half of each lane (the low half is garbage).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<uint> BFloat16Rounded(Vector256<float> v, bool nan)
    {
        Vector256<int> u = v.AsInt32();
        if (nan)
        {
            Vector256<int> isNaN = Vector256.GreaterThan(u & Vector256.Create(int.MaxValue), Vector256.Create(0x7F80_0000));
            u = Vector256.ConditionalSelect(isNaN, (u | Vector256.Create(0x0040_0000)) & Vector256.Create(unchecked((int)0xFFFF_0000)), u);
        }
        // Inline constants (not the table): the merge microkernel uses these once per tile, and a
        // static read there costs a class-initialization check that makes the JIT spill an accumulator.
        Vector256<int> odd = Vector256.Equals(u & Vector256.Create(0x1_0000), Vector256.Create(0x1_0000));
        return (u + Vector256.Create(0x7FFF) - odd).AsUInt32();
    }

    /// <summary>Stores 2·Count 16-bit values: the even-indexed from the low halves of <paramref name="low"/>'s lanes, the odd-indexed from the high halves of <paramref name="high"/>'s.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StorePair(ushort* p, Vector256<uint> low, Vector256<uint> high, bool nonTemporal)
    {
        Vector256<uint> bits = Avx2.IsSupported
            ? Avx2.Blend(low.AsUInt16(), high.AsUInt16(), 0xAA).AsUInt32()
            : (low & Vector256.Create(0xFFFFu)) | (high & Vector256.Create(0xFFFF_0000u));
        if (nonTemporal)
            bits.StoreAlignedNonTemporal((uint*)p);
        else
            bits.Store((uint*)p);
    }

    // ---- conversion constants: read from memory as full vectors (a constant written inline
    // becomes a broadcast instruction that the JIT repeats in every loop iteration).

    private const int KMagnitude16 = 0, KMaxFinite16 = 1, KExponent32 = 2, KTwoTo112 = 3, KSign32 = 4, KMagnitude32 = 5,
        KClamp16 = 6, KRebias16 = 7, KOne = 8, KHalf = 9, KMinNormal16 = 10, KHigh16 = 11, KBit16 = 12,
        KBit13 = 13, KSignExtended16 = 14, KMagnitude16At13 = 15, KMaxFinite16At13 = 16, KCount = 17;

    /// <summary>The constant vectors, 32-byte aligned.</summary>
    private static readonly int* Constants = CreateConstants();

    private static int* CreateConstants()
    {
        int[] values = [0x7FFF, 0x7BFF, 0x7F80_0000, 0x7780_0000, int.MinValue, int.MaxValue, 0x4780_0000, unchecked((int)0xC800_0FFF), 1, 0x3F00_0000, 0x3880_0000, unchecked((int)0xFFFF_0000), 0x1_0000,
            0x2000, unchecked((int)0xFFFF_8000), 0x7FFF << 13, 0x7BFF << 13];
        int* table = (int*)System.Runtime.InteropServices.NativeMemory.AlignedAlloc((nuint)(KCount * 32), 32);
        for (int i = 0; i < KCount; i++)
        {
            for (int j = 0; j < 8; j++)
                table[8 * i + j] = values[i];
        }
        return table;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<int> K(int index) => Vector256.LoadAligned(Constants + 8 * index);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void StoreBF16Two(ushort* p, Vector256<float> first, Vector256<float> second, bool nonTemporal)
    {
        // Inf - Inf also takes the general rounding, which is right for every value.
        if (AnyNaN(first + second))
            StoreTwo(p, SingleToBFloat16Bits(first), SingleToBFloat16Bits(second), nonTemporal);
        else
            StoreTwo(p, Vector256.ShiftRightArithmetic(BFloat16Rounded(first, false).AsInt32(), 16), Vector256.ShiftRightArithmetic(BFloat16Rounded(second, false).AsInt32(), 16), nonTemporal);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void StoreF16Two(ushort* p, Vector256<float> first, Vector256<float> second, bool nonTemporal)
        => StoreTwo(p, SingleToHalfBits(first), SingleToHalfBits(second), nonTemporal);

    /// <summary>Stores two vectors of lanes holding sign-extended 16-bit values, in order.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StoreTwo(ushort* p, Vector256<int> first, Vector256<int> second, bool nonTemporal)
    {
        Vector256<short> bits = Avx2.IsSupported
            ? Avx2.Permute4x64(Avx2.PackSignedSaturate(first, second).AsInt64(), 0b11_01_10_00).AsInt16()
            : Vector256.Narrow(first, second);
        if (nonTemporal)
            bits.StoreAlignedNonTemporal((short*)p);
        else
            bits.Store((short*)p);
    }
}
