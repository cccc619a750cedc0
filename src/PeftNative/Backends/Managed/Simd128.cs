using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

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
    public static Vector128<float> LoadF32(float* p) => Vector128.Load(p);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void StoreF32(float* p, Vector128<float> v) => v.Store(p);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void StoreF32NonTemporal(float* p, Vector128<float> v) => v.StoreAlignedNonTemporal(p);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> LoadF16(ushort* p) => HalfBitsToSingle(LoadU16(p));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void StoreF16(ushort* p, Vector128<float> v) => StoreU16(p, SingleToHalfBits(v));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void StoreF16NonTemporal(ushort* p, Vector128<float> v) => StoreU16NonTemporal(p, SingleToHalfBits(v));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> LoadBF16(ushort* p) => (LoadU16(p) << 16).AsSingle();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void StoreBF16(ushort* p, Vector128<float> v) => StoreU16(p, SingleToBFloat16Bits(v));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void StoreBF16NonTemporal(ushort* p, Vector128<float> v) => StoreU16NonTemporal(p, SingleToBFloat16Bits(v));

    /// <summary>Loads 4 ushorts, zero-extended into 32-bit lanes.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<uint> LoadU16(ushort* p) => Vector128.WidenLower(Vector128.CreateScalarUnsafe(Unsafe.ReadUnaligned<ulong>(p)).AsUInt16());

    /// <summary>Stores the low 16 bits of each lane (values fit in 16 bits).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StoreU16(ushort* p, Vector128<uint> bits) => Unsafe.WriteUnaligned(p, Vector128.Narrow(bits, bits).AsUInt64().ToScalar());

    // 8 bytes: no non-temporal store of that size in the cross-platform API.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StoreU16NonTemporal(ushort* p, Vector128<uint> bits) => StoreU16(p, bits);

    /// <summary>binary16 bits (one per 32-bit lane) to float, exactly: subnormals by a float subtraction, Inf kept, NaN quieted.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector128<float> HalfBitsToSingle(Vector128<uint> h)
    {
        Vector128<uint> magnitude = h & Vector128.Create(0x7FFFu);
        Vector128<uint> exponent = magnitude & Vector128.Create(0x7C00u);
        // Rebias the exponent (15 -> 127) and move the fraction into place: right for normals.
        Vector128<uint> bits = (magnitude << 13) + Vector128.Create(0x3800_0000u);
        // Subnormals and zero: 2^-14 * (1 + m/1024) - 2^-14 = m * 2^-24, exact.
        Vector128<uint> subnormal = ((bits + Vector128.Create(0x0080_0000u)).AsSingle() - Vector128.Create(6.103515625e-05f)).AsUInt32();
        // Inf and NaN: exponent all ones, NaN gets the quiet bit.
        Vector128<uint> quiet = Vector128.GreaterThan(magnitude.AsInt32(), Vector128.Create(0x7C00)).AsUInt32() & Vector128.Create(0x0040_0000u);
        Vector128<uint> special = (bits + Vector128.Create(0x3800_0000u)) | quiet;
        bits = Vector128.ConditionalSelect(Vector128.Equals(exponent, Vector128<uint>.Zero), subnormal, bits);
        bits = Vector128.ConditionalSelect(Vector128.Equals(exponent, Vector128.Create(0x7C00u)), special, bits);
        return (bits | ((h & Vector128.Create(0x8000u)) << 16)).AsSingle();
    }

    /// <summary>float to binary16 bits (one per 32-bit lane): round to nearest even, overflow to Inf, NaN quieted keeping its top payload.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector128<uint> SingleToHalfBits(Vector128<float> v)
    {
        Vector128<uint> u = v.AsUInt32();
        Vector128<uint> sign = (u >> 16) & Vector128.Create(0x8000u);
        Vector128<uint> a = u & Vector128.Create(0x7FFF_FFFFu);
        Vector128<int> ai = a.AsInt32();
        // Normals: rebias (127 -> 15) and round the 13 dropped bits to nearest even in integers.
        Vector128<uint> normal = (a + Vector128.Create(0xC800_0FFFu) + ((a >> 13) & Vector128<uint>.One)) >> 13;
        // Subnormals: adding 0.5 puts the result's ulp at 2^-24, so the FPU rounds to nearest even.
        Vector128<uint> subnormal = (a.AsSingle() + Vector128.Create(0.5f)).AsUInt32() - Vector128.Create(0x3F00_0000u);
        Vector128<uint> nan = ((a >> 13) & Vector128.Create(0x03FFu)) | Vector128.Create(0x7E00u);
        Vector128<uint> bits = Vector128.ConditionalSelect(Vector128.LessThan(ai, Vector128.Create(0x3880_0000)).AsUInt32(), subnormal, normal);
        bits = Vector128.ConditionalSelect(Vector128.GreaterThanOrEqual(ai, Vector128.Create(0x4780_0000)).AsUInt32(), Vector128.Create(0x7C00u), bits);
        bits = Vector128.ConditionalSelect(Vector128.GreaterThan(ai, Vector128.Create(0x7F80_0000)).AsUInt32(), nan, bits);
        return bits | sign;
    }

    /// <summary>float to bfloat16 bits (one per 32-bit lane): round to nearest even; NaN keeps sign and top payload and is quieted.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector128<uint> SingleToBFloat16Bits(Vector128<float> v)
    {
        Vector128<uint> u = v.AsUInt32();
        Vector128<uint> high = u >> 16;
        Vector128<uint> rounded = (u + Vector128.Create(0x7FFFu) + (high & Vector128<uint>.One)) >> 16;
        Vector128<uint> nan = Vector128.GreaterThan((u & Vector128.Create(0x7FFF_FFFFu)).AsInt32(), Vector128.Create(0x7F80_0000)).AsUInt32();
        return Vector128.ConditionalSelect(nan, high | Vector128.Create(0x0040u), rounded);
    }
}
