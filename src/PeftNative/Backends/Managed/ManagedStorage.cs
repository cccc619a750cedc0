using System.Runtime.CompilerServices;

namespace PeftNative.Backends.Managed;

/// <summary>
/// A storage dtype as a type parameter: loads widen to f32, stores round once (nearest even).
/// Kernels are generic over it, so each (width, dtype) pair compiles to its own loop.
/// Addresses are a base pointer and an element index (64-bit: tensors can exceed 2^31 bytes).
/// </summary>
internal unsafe interface IStorage
{
    /// <summary>The dtype.</summary>
    static abstract DType DType { get; }

    /// <summary>Bytes per element.</summary>
    static abstract int Size { get; }

    /// <summary>Loads <c>TS.Count</c> elements starting at element <paramref name="index"/>.</summary>
    static abstract TV Load<TS, TV>(void* data, nint index) where TS : ISimd<TV> where TV : unmanaged;

    /// <summary>Stores <c>TS.Count</c> elements starting at element <paramref name="index"/>.</summary>
    static abstract void Store<TS, TV>(void* data, nint index, TV value) where TS : ISimd<TV> where TV : unmanaged;

    /// <summary>As <see cref="Store"/>, testing the vector for NaN first where that makes the rounding cheaper (bf16).</summary>
    static abstract void StoreTested<TS, TV>(void* data, nint index, TV value) where TS : ISimd<TV> where TV : unmanaged;

    /// <summary>As <see cref="Store"/> for values known not to be NaN (the bf16 rounding is then cheaper).</summary>
    static abstract void StoreNoNaN<TS, TV>(void* data, nint index, TV value) where TS : ISimd<TV> where TV : unmanaged;

    /// <summary>As <see cref="Store"/>, bypassing the caches; the address is aligned to the stored size.</summary>
    static abstract void StoreNonTemporal<TS, TV>(void* data, nint index, TV value) where TS : ISimd<TV> where TV : unmanaged;

    /// <summary>Loads one element.</summary>
    static abstract float LoadScalar(void* data, nint index);

    /// <summary>Stores one element.</summary>
    static abstract void StoreScalar(void* data, nint index, float value);
}

/// <summary>IEEE binary32 storage.</summary>
internal readonly unsafe struct F32Storage : IStorage
{
    public static DType DType => DType.F32;

    public static int Size => 4;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TV Load<TS, TV>(void* data, nint index) where TS : ISimd<TV> where TV : unmanaged => TS.LoadF32((float*)data + index);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Store<TS, TV>(void* data, nint index, TV value) where TS : ISimd<TV> where TV : unmanaged => TS.StoreF32((float*)data + index, value);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void StoreTested<TS, TV>(void* data, nint index, TV value) where TS : ISimd<TV> where TV : unmanaged => TS.StoreF32((float*)data + index, value);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void StoreNoNaN<TS, TV>(void* data, nint index, TV value) where TS : ISimd<TV> where TV : unmanaged => TS.StoreF32((float*)data + index, value);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void StoreNonTemporal<TS, TV>(void* data, nint index, TV value) where TS : ISimd<TV> where TV : unmanaged => TS.StoreF32NonTemporal((float*)data + index, value);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float LoadScalar(void* data, nint index) => ((float*)data)[index];

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void StoreScalar(void* data, nint index, float value) => ((float*)data)[index] = value;
}

/// <summary>IEEE binary16 storage.</summary>
internal readonly unsafe struct F16Storage : IStorage
{
    public static DType DType => DType.F16;

    public static int Size => 2;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TV Load<TS, TV>(void* data, nint index) where TS : ISimd<TV> where TV : unmanaged => TS.LoadF16((ushort*)data + index);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Store<TS, TV>(void* data, nint index, TV value) where TS : ISimd<TV> where TV : unmanaged => TS.StoreF16((ushort*)data + index, value);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void StoreTested<TS, TV>(void* data, nint index, TV value) where TS : ISimd<TV> where TV : unmanaged => TS.StoreF16((ushort*)data + index, value);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void StoreNoNaN<TS, TV>(void* data, nint index, TV value) where TS : ISimd<TV> where TV : unmanaged => TS.StoreF16((ushort*)data + index, value);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void StoreNonTemporal<TS, TV>(void* data, nint index, TV value) where TS : ISimd<TV> where TV : unmanaged => TS.StoreF16NonTemporal((ushort*)data + index, value);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float LoadScalar(void* data, nint index) => (float)((Half*)data)[index];

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void StoreScalar(void* data, nint index, float value) => ((Half*)data)[index] = (Half)value;
}

/// <summary>bfloat16 storage.</summary>
internal readonly unsafe struct BF16Storage : IStorage
{
    public static DType DType => DType.BF16;

    public static int Size => 2;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TV Load<TS, TV>(void* data, nint index) where TS : ISimd<TV> where TV : unmanaged => TS.LoadBF16((ushort*)data + index);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Store<TS, TV>(void* data, nint index, TV value) where TS : ISimd<TV> where TV : unmanaged => TS.StoreBF16((ushort*)data + index, value);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void StoreTested<TS, TV>(void* data, nint index, TV value) where TS : ISimd<TV> where TV : unmanaged
    {
        if (TS.AnyNaN(value))
            TS.StoreBF16((ushort*)data + index, value);
        else
            TS.StoreBF16NoNaN((ushort*)data + index, value);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void StoreNoNaN<TS, TV>(void* data, nint index, TV value) where TS : ISimd<TV> where TV : unmanaged => TS.StoreBF16NoNaN((ushort*)data + index, value);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void StoreNonTemporal<TS, TV>(void* data, nint index, TV value) where TS : ISimd<TV> where TV : unmanaged => TS.StoreBF16NonTemporal((ushort*)data + index, value);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float LoadScalar(void* data, nint index) => BitConverter.UInt32BitsToSingle((uint)((ushort*)data)[index] << 16);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void StoreScalar(void* data, nint index, float value) => ((ushort*)data)[index] = BFloat16.FromSingle(value).Bits;
}

/// <summary>Whether a loop's bulk stores bypass the caches (a type parameter, so the choice is compiled in).</summary>
internal interface IStoreKind
{
    /// <summary>True for non-temporal stores.</summary>
    static abstract bool NonTemporal { get; }
}

/// <summary>Ordinary stores.</summary>
internal readonly struct CachedStores : IStoreKind
{
    public static bool NonTemporal => false;
}

/// <summary>Non-temporal stores.</summary>
internal readonly struct NonTemporalStores : IStoreKind
{
    public static bool NonTemporal => true;
}

/// <summary>
/// Deinterleaved access to 16-bit storage: 2·<c>TS.Count</c> elements from element
/// <c>index</c>, the even-indexed ones in one vector and the odd-indexed in the other (see
/// <see cref="ISimd{TV}.LoadBF16x2"/>). Kernels whose arithmetic is element-wise, or whose
/// other operands are packed in the same order, use it to skip the widening and narrowing shuffles.
/// </summary>
internal static unsafe class PairStorage
{
    /// <summary>Loads a pair of vectors from 16-bit storage <typeparamref name="T"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Load<TS, TV, T>(void* data, nint index, out TV even, out TV odd)
        where TS : ISimd<TV> where TV : unmanaged where T : IStorage
    {
        if (T.DType == DType.BF16)
            TS.LoadBF16x2((ushort*)data + index, out even, out odd);
        else
            TS.LoadF16x2((ushort*)data + index, out even, out odd);
    }

    /// <summary>Stores a pair of vectors into 16-bit storage <typeparamref name="T"/> (bf16 tests for NaN first).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Store<TS, TV, T>(void* data, nint index, TV even, TV odd, bool nonTemporal)
        where TS : ISimd<TV> where TV : unmanaged where T : IStorage
    {
        if (T.DType == DType.BF16)
            TS.StoreBF16x2((ushort*)data + index, even, odd, nonTemporal);
        else
            TS.StoreF16x2((ushort*)data + index, even, odd, nonTemporal);
    }

    /// <summary>Position of column <paramref name="c"/> of a 2·<paramref name="nv"/>-column panel in the deinterleaved order.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int Position(int c, int nv) => (c & 1) * nv + (c >> 1);
}
