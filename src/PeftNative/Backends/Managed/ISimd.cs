namespace PeftNative.Backends.Managed;

/// <summary>
/// The vector primitives the managed kernels are written over, once, generically: one struct
/// per width (<see cref="SimdScalar"/>, <see cref="Simd128"/>, <see cref="Simd256"/>,
/// <see cref="Simd512"/>) with <typeparamref name="TV"/> the float vector of that width. The JIT
/// specialises every kernel for each struct, so the calls below compile to single instructions.
/// Conversions follow the scalar rules of <see cref="ScalarMath"/> bit for bit (round to nearest
/// even, f16 overflow to ±Inf, NaN quieted with sign and top payload kept).
/// </summary>
/// <typeparam name="TV">The float vector type (float itself for the scalar width).</typeparam>
internal unsafe interface ISimd<TV> where TV : unmanaged
{
    /// <summary>Floats per vector.</summary>
    static abstract int Count { get; }

    /// <summary>All lanes set to <paramref name="value"/>.</summary>
    static abstract TV Broadcast(float value);

    /// <summary><c>a * b + addend</c>, rounded once.</summary>
    static abstract TV Fma(TV a, TV b, TV addend);

    /// <summary><c>a * b</c>.</summary>
    static abstract TV Multiply(TV a, TV b);

    /// <summary><c>a + b</c>.</summary>
    static abstract TV Add(TV a, TV b);

    /// <summary>True when any lane is NaN.</summary>
    static abstract bool AnyNaN(TV v);

    /// <summary>Loads <see cref="Count"/> floats.</summary>
    static abstract TV LoadF32(float* p);

    /// <summary>Stores <see cref="Count"/> floats.</summary>
    static abstract void StoreF32(float* p, TV v);

    /// <summary>Stores <see cref="Count"/> floats bypassing the caches; <paramref name="p"/> is aligned to the vector size.</summary>
    static abstract void StoreF32NonTemporal(float* p, TV v);

    /// <summary>Loads <see cref="Count"/> binary16 values, widened exactly.</summary>
    static abstract TV LoadF16(ushort* p);

    /// <summary>Stores <see cref="Count"/> binary16 values, rounded to nearest even.</summary>
    static abstract void StoreF16(ushort* p, TV v);

    /// <summary>As <see cref="StoreF16"/>, bypassing the caches where the width allows; <paramref name="p"/> is aligned to 2·<see cref="Count"/> bytes.</summary>
    static abstract void StoreF16NonTemporal(ushort* p, TV v);

    /// <summary>Loads <see cref="Count"/> bfloat16 values, widened exactly.</summary>
    static abstract TV LoadBF16(ushort* p);

    /// <summary>Stores <see cref="Count"/> bfloat16 values, rounded to nearest even.</summary>
    static abstract void StoreBF16(ushort* p, TV v);

    /// <summary>As <see cref="StoreBF16"/> for values known not to be NaN (cheaper rounding).</summary>
    static abstract void StoreBF16NoNaN(ushort* p, TV v);

    /// <summary>As <see cref="StoreBF16"/>, bypassing the caches where the width allows; <paramref name="p"/> is aligned to 2·<see cref="Count"/> bytes.</summary>
    static abstract void StoreBF16NonTemporal(ushort* p, TV v);

    /// <summary>
    /// Loads 2·<see cref="Count"/> bfloat16 values, widened exactly and deinterleaved: the
    /// even-indexed values into <paramref name="even"/>, the odd-indexed into <paramref name="odd"/>
    /// (for vectors a shift and a mask, no shuffle).
    /// </summary>
    static abstract void LoadBF16x2(ushort* p, out TV even, out TV odd);

    /// <summary>Stores 2·<see cref="Count"/> bfloat16 values, the inverse of <see cref="LoadBF16x2"/>, rounded to nearest even; non-temporal (then <paramref name="p"/> is aligned to 4·<see cref="Count"/> bytes) where the width allows.</summary>
    static abstract void StoreBF16x2(ushort* p, TV even, TV odd, bool nonTemporal);

    /// <summary>As <see cref="StoreBF16x2"/> for values known not to be NaN.</summary>
    static abstract void StoreBF16x2NoNaN(ushort* p, TV even, TV odd, bool nonTemporal);

    /// <summary>Loads 2·<see cref="Count"/> binary16 values, widened exactly and deinterleaved as by <see cref="LoadBF16x2"/>.</summary>
    static abstract void LoadF16x2(ushort* p, out TV even, out TV odd);

    /// <summary>Stores 2·<see cref="Count"/> binary16 values, the inverse of <see cref="LoadF16x2"/>, rounded as <see cref="StoreF16"/>.</summary>
    static abstract void StoreF16x2(ushort* p, TV even, TV odd, bool nonTemporal);

    /// <summary>Stores 2·<see cref="Count"/> bfloat16 values in order, <paramref name="first"/>'s then <paramref name="second"/>'s, rounded as <see cref="StoreBF16"/> (one pack for both where the width has one); non-temporal as for <see cref="StoreBF16x2"/>.</summary>
    static abstract void StoreBF16Two(ushort* p, TV first, TV second, bool nonTemporal);

    /// <summary>As <see cref="StoreBF16Two"/> for binary16, rounded as <see cref="StoreF16"/>.</summary>
    static abstract void StoreF16Two(ushort* p, TV first, TV second, bool nonTemporal);
}
