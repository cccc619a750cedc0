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
}
