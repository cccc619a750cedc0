using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

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
    public static Vector256<float> LoadF32(float* p) => Vector256.Load(p);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void StoreF32(float* p, Vector256<float> v) => v.Store(p);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void StoreF32NonTemporal(float* p, Vector256<float> v) => v.StoreAlignedNonTemporal(p);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> LoadF16(ushort* p) => HalfBitsToSingle(LoadU16(p));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void StoreF16(ushort* p, Vector256<float> v) => StoreU16(p, SingleToHalfBits(v));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void StoreF16NonTemporal(ushort* p, Vector256<float> v) => StoreU16NonTemporal(p, SingleToHalfBits(v));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> LoadBF16(ushort* p) => (LoadU16(p) << 16).AsSingle();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void StoreBF16(ushort* p, Vector256<float> v) => StoreU16(p, SingleToBFloat16Bits(v));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void StoreBF16NonTemporal(ushort* p, Vector256<float> v) => StoreU16NonTemporal(p, SingleToBFloat16Bits(v));

    /// <summary>Loads 8 ushorts, zero-extended into 32-bit lanes.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<uint> LoadU16(ushort* p) => Vector256.WidenLower(Vector128.Load(p).ToVector256Unsafe());

    /// <summary>Stores the low 16 bits of each lane (values fit in 16 bits).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StoreU16(ushort* p, Vector256<uint> bits) => Vector256.Narrow(bits, bits).GetLower().Store(p);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StoreU16NonTemporal(ushort* p, Vector256<uint> bits) => Vector256.Narrow(bits, bits).GetLower().StoreAlignedNonTemporal(p);

    /// <summary>binary16 bits (one per 32-bit lane) to float, exactly: subnormals by a float subtraction, Inf kept, NaN quieted.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector256<float> HalfBitsToSingle(Vector256<uint> h)
    {
        Vector256<uint> magnitude = h & Vector256.Create(0x7FFFu);
        Vector256<uint> exponent = magnitude & Vector256.Create(0x7C00u);
        // Rebias the exponent (15 -> 127) and move the fraction into place: right for normals.
        Vector256<uint> bits = (magnitude << 13) + Vector256.Create(0x3800_0000u);
        // Subnormals and zero: 2^-14 * (1 + m/1024) - 2^-14 = m * 2^-24, exact.
        Vector256<uint> subnormal = ((bits + Vector256.Create(0x0080_0000u)).AsSingle() - Vector256.Create(6.103515625e-05f)).AsUInt32();
        // Inf and NaN: exponent all ones, NaN gets the quiet bit.
        Vector256<uint> quiet = Vector256.GreaterThan(magnitude.AsInt32(), Vector256.Create(0x7C00)).AsUInt32() & Vector256.Create(0x0040_0000u);
        Vector256<uint> special = (bits + Vector256.Create(0x3800_0000u)) | quiet;
        bits = Vector256.ConditionalSelect(Vector256.Equals(exponent, Vector256<uint>.Zero), subnormal, bits);
        bits = Vector256.ConditionalSelect(Vector256.Equals(exponent, Vector256.Create(0x7C00u)), special, bits);
        return (bits | ((h & Vector256.Create(0x8000u)) << 16)).AsSingle();
    }

    /// <summary>float to binary16 bits (one per 32-bit lane): round to nearest even, overflow to Inf, NaN quieted keeping its top payload.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector256<uint> SingleToHalfBits(Vector256<float> v)
    {
        Vector256<uint> u = v.AsUInt32();
        Vector256<uint> sign = (u >> 16) & Vector256.Create(0x8000u);
        Vector256<uint> a = u & Vector256.Create(0x7FFF_FFFFu);
        Vector256<int> ai = a.AsInt32();
        // Normals: rebias (127 -> 15) and round the 13 dropped bits to nearest even in integers.
        Vector256<uint> normal = (a + Vector256.Create(0xC800_0FFFu) + ((a >> 13) & Vector256<uint>.One)) >> 13;
        // Subnormals: adding 0.5 puts the result's ulp at 2^-24, so the FPU rounds to nearest even.
        Vector256<uint> subnormal = (a.AsSingle() + Vector256.Create(0.5f)).AsUInt32() - Vector256.Create(0x3F00_0000u);
        Vector256<uint> nan = ((a >> 13) & Vector256.Create(0x03FFu)) | Vector256.Create(0x7E00u);
        Vector256<uint> bits = Vector256.ConditionalSelect(Vector256.LessThan(ai, Vector256.Create(0x3880_0000)).AsUInt32(), subnormal, normal);
        bits = Vector256.ConditionalSelect(Vector256.GreaterThanOrEqual(ai, Vector256.Create(0x4780_0000)).AsUInt32(), Vector256.Create(0x7C00u), bits);
        bits = Vector256.ConditionalSelect(Vector256.GreaterThan(ai, Vector256.Create(0x7F80_0000)).AsUInt32(), nan, bits);
        return bits | sign;
    }

    /// <summary>float to bfloat16 bits (one per 32-bit lane): round to nearest even; NaN keeps sign and top payload and is quieted.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector256<uint> SingleToBFloat16Bits(Vector256<float> v)
    {
        Vector256<uint> u = v.AsUInt32();
        Vector256<uint> high = u >> 16;
        Vector256<uint> rounded = (u + Vector256.Create(0x7FFFu) + (high & Vector256<uint>.One)) >> 16;
        Vector256<uint> nan = Vector256.GreaterThan((u & Vector256.Create(0x7FFF_FFFFu)).AsInt32(), Vector256.Create(0x7F80_0000)).AsUInt32();
        return Vector256.ConditionalSelect(nan, high | Vector256.Create(0x0040u), rounded);
    }
}
