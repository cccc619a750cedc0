using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace PeftNative.Backends.Managed;

/// <summary>
/// The 512-bit width: <see cref="Vector512{T}"/> of floats. Runs everywhere (emulated where the
/// hardware lacks it); the 16-bit conversions are integer bit manipulations that reproduce the
/// scalar rules of <see cref="ScalarMath"/> exactly.
/// </summary>
internal readonly unsafe struct Simd512 : ISimd<Vector512<float>>
{
    public static int Count => Vector512<float>.Count;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Broadcast(float value) => Vector512.Create(value);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Fma(Vector512<float> a, Vector512<float> b, Vector512<float> addend) => Vector512.FusedMultiplyAdd(a, b, addend);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Multiply(Vector512<float> a, Vector512<float> b) => a * b;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> LoadF32(float* p) => Vector512.Load(p);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void StoreF32(float* p, Vector512<float> v) => v.Store(p);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void StoreF32NonTemporal(float* p, Vector512<float> v) => v.StoreAlignedNonTemporal(p);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> LoadF16(ushort* p) => HalfBitsToSingle(LoadU16(p));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void StoreF16(ushort* p, Vector512<float> v) => StoreU16(p, SingleToHalfBits(v));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void StoreF16NonTemporal(ushort* p, Vector512<float> v) => StoreU16NonTemporal(p, SingleToHalfBits(v));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> LoadBF16(ushort* p) => (LoadU16(p) << 16).AsSingle();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void StoreBF16(ushort* p, Vector512<float> v) => StoreU16(p, SingleToBFloat16Bits(v));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void StoreBF16NonTemporal(ushort* p, Vector512<float> v) => StoreU16NonTemporal(p, SingleToBFloat16Bits(v));

    /// <summary>Loads 16 ushorts, zero-extended into 32-bit lanes.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<uint> LoadU16(ushort* p) => Vector512.WidenLower(Vector256.Load(p).ToVector512Unsafe());

    /// <summary>Stores the low 16 bits of each lane (values fit in 16 bits).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StoreU16(ushort* p, Vector512<uint> bits) => Vector512.Narrow(bits, bits).GetLower().Store(p);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StoreU16NonTemporal(ushort* p, Vector512<uint> bits) => Vector512.Narrow(bits, bits).GetLower().StoreAlignedNonTemporal(p);

    /// <summary>binary16 bits (one per 32-bit lane) to float, exactly: subnormals by a float subtraction, Inf kept, NaN quieted.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector512<float> HalfBitsToSingle(Vector512<uint> h)
    {
        Vector512<uint> magnitude = h & Vector512.Create(0x7FFFu);
        Vector512<uint> exponent = magnitude & Vector512.Create(0x7C00u);
        // Rebias the exponent (15 -> 127) and move the fraction into place: right for normals.
        Vector512<uint> bits = (magnitude << 13) + Vector512.Create(0x3800_0000u);
        // Subnormals and zero: 2^-14 * (1 + m/1024) - 2^-14 = m * 2^-24, exact.
        Vector512<uint> subnormal = ((bits + Vector512.Create(0x0080_0000u)).AsSingle() - Vector512.Create(6.103515625e-05f)).AsUInt32();
        // Inf and NaN: exponent all ones, NaN gets the quiet bit.
        Vector512<uint> quiet = Vector512.GreaterThan(magnitude.AsInt32(), Vector512.Create(0x7C00)).AsUInt32() & Vector512.Create(0x0040_0000u);
        Vector512<uint> special = (bits + Vector512.Create(0x3800_0000u)) | quiet;
        bits = Vector512.ConditionalSelect(Vector512.Equals(exponent, Vector512<uint>.Zero), subnormal, bits);
        bits = Vector512.ConditionalSelect(Vector512.Equals(exponent, Vector512.Create(0x7C00u)), special, bits);
        return (bits | ((h & Vector512.Create(0x8000u)) << 16)).AsSingle();
    }

    /// <summary>float to binary16 bits (one per 32-bit lane): round to nearest even, overflow to Inf, NaN quieted keeping its top payload.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector512<uint> SingleToHalfBits(Vector512<float> v)
    {
        Vector512<uint> u = v.AsUInt32();
        Vector512<uint> sign = (u >> 16) & Vector512.Create(0x8000u);
        Vector512<uint> a = u & Vector512.Create(0x7FFF_FFFFu);
        Vector512<int> ai = a.AsInt32();
        // Normals: rebias (127 -> 15) and round the 13 dropped bits to nearest even in integers.
        Vector512<uint> normal = (a + Vector512.Create(0xC800_0FFFu) + ((a >> 13) & Vector512<uint>.One)) >> 13;
        // Subnormals: adding 0.5 puts the result's ulp at 2^-24, so the FPU rounds to nearest even.
        Vector512<uint> subnormal = (a.AsSingle() + Vector512.Create(0.5f)).AsUInt32() - Vector512.Create(0x3F00_0000u);
        Vector512<uint> nan = ((a >> 13) & Vector512.Create(0x03FFu)) | Vector512.Create(0x7E00u);
        Vector512<uint> bits = Vector512.ConditionalSelect(Vector512.LessThan(ai, Vector512.Create(0x3880_0000)).AsUInt32(), subnormal, normal);
        bits = Vector512.ConditionalSelect(Vector512.GreaterThanOrEqual(ai, Vector512.Create(0x4780_0000)).AsUInt32(), Vector512.Create(0x7C00u), bits);
        bits = Vector512.ConditionalSelect(Vector512.GreaterThan(ai, Vector512.Create(0x7F80_0000)).AsUInt32(), nan, bits);
        return bits | sign;
    }

    /// <summary>float to bfloat16 bits (one per 32-bit lane): round to nearest even; NaN keeps sign and top payload and is quieted.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector512<uint> SingleToBFloat16Bits(Vector512<float> v)
    {
        Vector512<uint> u = v.AsUInt32();
        Vector512<uint> high = u >> 16;
        Vector512<uint> rounded = (u + Vector512.Create(0x7FFFu) + (high & Vector512<uint>.One)) >> 16;
        Vector512<uint> nan = Vector512.GreaterThan((u & Vector512.Create(0x7FFF_FFFFu)).AsInt32(), Vector512.Create(0x7F80_0000)).AsUInt32();
        return Vector512.ConditionalSelect(nan, high | Vector512.Create(0x0040u), rounded);
    }
}
