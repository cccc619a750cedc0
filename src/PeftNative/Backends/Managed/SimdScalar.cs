using System.Runtime.CompilerServices;

namespace PeftNative.Backends.Managed;

/// <summary>The scalar width: one float, the conversions of <see cref="ScalarMath"/>.</summary>
internal readonly unsafe struct SimdScalar : ISimd<float>
{
    public static int Count => 1;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Broadcast(float value) => value;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Fma(float a, float b, float addend) => MathF.FusedMultiplyAdd(a, b, addend);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Multiply(float a, float b) => a * b;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Add(float a, float b) => a + b;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool AnyNaN(float v) => float.IsNaN(v);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void StoreBF16NoNaN(ushort* p, float v) => *p = BFloat16.FromSingle(v).Bits;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float LoadF32(float* p) => *p;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void StoreF32(float* p, float v) => *p = v;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void StoreF32NonTemporal(float* p, float v) => *p = v;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float LoadF16(ushort* p) => (float)*(Half*)p;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void StoreF16(ushort* p, float v) => *(Half*)p = (Half)v;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void StoreF16NonTemporal(ushort* p, float v) => *(Half*)p = (Half)v;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float LoadBF16(ushort* p) => BitConverter.UInt32BitsToSingle((uint)*p << 16);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void StoreBF16(ushort* p, float v) => *p = BFloat16.FromSingle(v).Bits;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void StoreBF16NonTemporal(ushort* p, float v) => *p = BFloat16.FromSingle(v).Bits;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void LoadBF16x2(ushort* p, out float even, out float odd)
    {
        even = LoadBF16(p);
        odd = LoadBF16(p + 1);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void StoreBF16x2(ushort* p, float even, float odd, bool nonTemporal)
    {
        StoreBF16(p, even);
        StoreBF16(p + 1, odd);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void StoreBF16x2NoNaN(ushort* p, float even, float odd, bool nonTemporal) => StoreBF16x2(p, even, odd, nonTemporal);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void LoadF16x2(ushort* p, out float even, out float odd)
    {
        even = LoadF16(p);
        odd = LoadF16(p + 1);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void StoreF16x2(ushort* p, float even, float odd, bool nonTemporal)
    {
        StoreF16(p, even);
        StoreF16(p + 1, odd);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void StoreBF16Two(ushort* p, float first, float second, bool nonTemporal) => StoreBF16x2(p, first, second, nonTemporal);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void StoreF16Two(ushort* p, float first, float second, bool nonTemporal) => StoreF16x2(p, first, second, nonTemporal);
}
