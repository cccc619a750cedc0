using System.Runtime.CompilerServices;

namespace PeftNative.Backends.Managed;

/// <summary>
/// The shared load/store helpers of the streaming kernels: short loops between a tensor (any
/// storage dtype) and an f32 block in L1. Keeping widening, arithmetic and rounding in separate
/// small loops keeps each loop's constants and values in registers (one fused loop with two
/// 16-bit conversions and several accumulators spills), and costs only L1 traffic. Counts are
/// multiples of <c>TS.Count</c>; indices are element indices into the tensor.
/// </summary>
/// <typeparam name="TS">The vector width.</typeparam>
/// <typeparam name="TV">Its float vector type.</typeparam>
internal static unsafe class ManagedBlock<TS, TV> where TS : ISimd<TV> where TV : unmanaged
{
    /// <summary>Elements per block: 2 KiB of f32, a multiple of every vector width.</summary>
    public const int Size = 512;

    /// <summary><c>dst[j] = src[index + j]</c>, widened.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Load<T>(void* src, nint index, float* dst, int count) where T : IStorage
    {
        int nv = TS.Count;
        for (int j = 0; j < count; j += nv)
            TS.StoreF32(dst + j, T.Load<TS, TV>(src, index + j));
    }

    /// <summary><c>dst[j] = src[index + j] · factor</c>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void LoadMultiply<T>(void* src, nint index, float* dst, int count, float factor) where T : IStorage
    {
        int nv = TS.Count;
        TV f = TS.Broadcast(factor);
        for (int j = 0; j < count; j += nv)
            TS.StoreF32(dst + j, TS.Multiply(T.Load<TS, TV>(src, index + j), f));
    }

    /// <summary><c>dst[j] = src[index + j] · factors[j]</c>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void LoadMultiply<T>(void* src, nint index, float* dst, int count, float* factors) where T : IStorage
    {
        int nv = TS.Count;
        for (int j = 0; j < count; j += nv)
            TS.StoreF32(dst + j, TS.Multiply(T.Load<TS, TV>(src, index + j), TS.LoadF32(factors + j)));
    }

    /// <summary><c>dst[j] = fma(weight, src[index + j], constant)</c>: the first term of an affine combination.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void MultiplyAddFirst<T>(void* src, nint index, float weight, float constant, float* dst, int count) where T : IStorage
    {
        int nv = TS.Count;
        TV w = TS.Broadcast(weight), c = TS.Broadcast(constant);
        for (int j = 0; j < count; j += nv)
            TS.StoreF32(dst + j, TS.Fma(w, T.Load<TS, TV>(src, index + j), c));
    }

    /// <summary><c>acc[j] = fma(weight, src[index + j], acc[j])</c>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void MultiplyAdd<T>(void* src, nint index, float weight, float* acc, int count) where T : IStorage
    {
        int nv = TS.Count;
        TV w = TS.Broadcast(weight);
        int j = 0;
        for (; j + 2 * nv <= count; j += 2 * nv)
        {
            TV x0 = T.Load<TS, TV>(src, index + j), x1 = T.Load<TS, TV>(src, index + j + nv);
            TS.StoreF32(acc + j, TS.Fma(w, x0, TS.LoadF32(acc + j)));
            TS.StoreF32(acc + j + nv, TS.Fma(w, x1, TS.LoadF32(acc + j + nv)));
        }
        for (; j < count; j += nv)
            TS.StoreF32(acc + j, TS.Fma(w, T.Load<TS, TV>(src, index + j), TS.LoadF32(acc + j)));
    }

    /// <summary>
    /// <c>dst[index + j] = round(constant + Σ_i weights[i] · inputs[i][index + j])</c> with the two
    /// vectors of each step accumulated in registers across all inputs (for storage types whose
    /// conversions need few constants; an L1 accumulator block costs a load and a store per term).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void CombineStore<TIn, TOut, TStore>(void** inputs, float* weights, int terms, float constant, void* dst, nint index, int count)
        where TIn : IStorage where TOut : IStorage where TStore : IStoreKind
    {
        int nv = TS.Count;
        TV c = TS.Broadcast(constant);
        int j = 0;
        for (; j + 2 * nv <= count; j += 2 * nv)
        {
            TV a0 = c, a1 = c;
            for (int i = 0; i < terms; i++)
            {
                void* x = inputs[i];
                TV w = TS.Broadcast(weights[i]);
                a0 = TS.Fma(w, TIn.Load<TS, TV>(x, index + j), a0);
                a1 = TS.Fma(w, TIn.Load<TS, TV>(x, index + j + nv), a1);
            }
            if (TStore.NonTemporal)
            {
                TOut.StoreNonTemporal<TS, TV>(dst, index + j, a0);
                TOut.StoreNonTemporal<TS, TV>(dst, index + j + nv, a1);
            }
            else
            {
                TOut.StoreTested<TS, TV>(dst, index + j, a0);
                TOut.StoreTested<TS, TV>(dst, index + j + nv, a1);
            }
        }
        for (; j < count; j += nv)
        {
            TV a = c;
            for (int i = 0; i < terms; i++)
                a = TS.Fma(TS.Broadcast(weights[i]), TIn.Load<TS, TV>(inputs[i], index + j), a);
            if (TStore.NonTemporal)
                TOut.StoreNonTemporal<TS, TV>(dst, index + j, a);
            else
                TOut.StoreTested<TS, TV>(dst, index + j, a);
        }
    }

    /// <summary>
    /// As <see cref="CombineStore{TIn, TOut, TStore}"/> for 16-bit inputs and output: each step
    /// loads 2 vectors' worth of every input deinterleaved (even-indexed elements in one vector,
    /// odd-indexed in the other; the arithmetic is element-wise, so the order does not matter)
    /// and stores them back interleaved, with no widening or narrowing shuffle.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void CombineStorePairs<TIn, TOut, TStore>(void** inputs, float* weights, int terms, float constant, void* dst, nint index, int count)
        where TIn : IStorage where TOut : IStorage where TStore : IStoreKind
    {
        int nv = TS.Count;
        TV c = TS.Broadcast(constant);
        int j = 0;
        for (; j + 2 * nv <= count; j += 2 * nv)
        {
            TV a0 = c, a1 = c;
            for (int i = 0; i < terms; i++)
            {
                TV w = TS.Broadcast(weights[i]);
                PairStorage.Load<TS, TV, TIn>(inputs[i], index + j, out TV even, out TV odd);
                a0 = TS.Fma(w, even, a0);
                a1 = TS.Fma(w, odd, a1);
            }
            PairStorage.Store<TS, TV, TOut>(dst, index + j, a0, a1, TStore.NonTemporal);
        }
        if (j < count)
        {
            TV a = c;
            for (int i = 0; i < terms; i++)
                a = TS.Fma(TS.Broadcast(weights[i]), TIn.Load<TS, TV>(inputs[i], index + j), a);
            if (TStore.NonTemporal)
                TOut.StoreNonTemporal<TS, TV>(dst, index + j, a);
            else
                TOut.StoreTested<TS, TV>(dst, index + j, a);
        }
    }

    /// <summary><c>dst[index + j] = fma(weight, src[index + j], acc[j])</c>, rounded once: the last term of an affine combination fused with its store.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void MultiplyAddStore<TIn, TOut, TStore>(void* src, nint index, float weight, float* acc, void* dst, int count)
        where TIn : IStorage where TOut : IStorage where TStore : IStoreKind
    {
        int nv = TS.Count;
        TV w = TS.Broadcast(weight);
        for (int j = 0; j < count; j += nv)
        {
            TV v = TS.Fma(w, TIn.Load<TS, TV>(src, index + j), TS.LoadF32(acc + j));
            if (TStore.NonTemporal)
                TOut.StoreNonTemporal<TS, TV>(dst, index + j, v);
            else
                TOut.StoreTested<TS, TV>(dst, index + j, v);
        }
    }

    /// <summary><c>dst[index + j] = fma(weight, src[index + j], constant)</c>, rounded once: a one-term affine combination.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void MultiplyAddStore<TIn, TOut, TStore>(void* src, nint index, float weight, float constant, void* dst, int count)
        where TIn : IStorage where TOut : IStorage where TStore : IStoreKind
    {
        int nv = TS.Count;
        TV w = TS.Broadcast(weight), c = TS.Broadcast(constant);
        for (int j = 0; j < count; j += nv)
        {
            TV v = TS.Fma(w, TIn.Load<TS, TV>(src, index + j), c);
            if (TStore.NonTemporal)
                TOut.StoreNonTemporal<TS, TV>(dst, index + j, v);
            else
                TOut.StoreTested<TS, TV>(dst, index + j, v);
        }
    }

    /// <summary><c>dst[index + j] = src[index + j]</c> converted (one vector at a time, so in place is safe for equal element sizes).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Convert<TIn, TOut, TStore>(void* src, void* dst, nint index, int count)
        where TIn : IStorage where TOut : IStorage where TStore : IStoreKind
    {
        int nv = TS.Count;
        int j = 0;
        if (TIn.Size == 2 && TOut.Size == 2)
        {
            // 16-bit to 16-bit: deinterleaved pairs, no shuffles.
            for (; j + 2 * nv <= count; j += 2 * nv)
            {
                PairStorage.Load<TS, TV, TIn>(src, index + j, out TV even, out TV odd);
                PairStorage.Store<TS, TV, TOut>(dst, index + j, even, odd, TStore.NonTemporal);
            }
        }
        else if (TIn.DType == DType.F32 && TOut.Size == 2)
        {
            // f32 to 16-bit: two vectors per store, one pack for both.
            for (; j + 2 * nv <= count; j += 2 * nv)
            {
                TV first = TS.LoadF32((float*)src + index + j), second = TS.LoadF32((float*)src + index + j + nv);
                if (TOut.DType == DType.BF16)
                    TS.StoreBF16Two((ushort*)dst + index + j, first, second, TStore.NonTemporal);
                else
                    TS.StoreF16Two((ushort*)dst + index + j, first, second, TStore.NonTemporal);
            }
        }
        for (; j < count; j += nv)
        {
            TV v = TIn.Load<TS, TV>(src, index + j);
            if (TStore.NonTemporal)
                TOut.StoreNonTemporal<TS, TV>(dst, index + j, v);
            else
                TOut.StoreTested<TS, TV>(dst, index + j, v);
        }
    }

    /// <summary><c>w[index + j] *= factor</c> in place.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Multiply<T>(void* w, nint index, int count, float factor) where T : IStorage
    {
        int nv = TS.Count;
        TV f = TS.Broadcast(factor);
        for (int j = 0; j < count; j += nv)
            T.StoreTested<TS, TV>(w, index + j, TS.Multiply(T.Load<TS, TV>(w, index + j), f));
    }

    /// <summary><c>w[index + j] *= factors[j]</c> in place.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Multiply<T>(void* w, nint index, int count, float* factors) where T : IStorage
    {
        int nv = TS.Count;
        for (int j = 0; j < count; j += nv)
            T.StoreTested<TS, TV>(w, index + j, TS.Multiply(T.Load<TS, TV>(w, index + j), TS.LoadF32(factors + j)));
    }

    /// <summary><c>w[index + j] *= factor</c> in place for 16-bit storage, two vectors at a time deinterleaved.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void MultiplyPairs<T>(void* w, nint index, int count, float factor) where T : IStorage
    {
        int nv = TS.Count;
        TV f = TS.Broadcast(factor);
        int j = 0;
        for (; j + 2 * nv <= count; j += 2 * nv)
        {
            PairStorage.Load<TS, TV, T>(w, index + j, out TV even, out TV odd);
            PairStorage.Store<TS, TV, T>(w, index + j, TS.Multiply(even, f), TS.Multiply(odd, f), false);
        }
        if (j < count)
            T.StoreTested<TS, TV>(w, index + j, TS.Multiply(T.Load<TS, TV>(w, index + j), f));
    }

    /// <summary>
    /// <c>w[index + j] *= factors[j]</c> in place for 16-bit storage, two vectors at a time
    /// deinterleaved; <paramref name="deinterleaved"/> holds the same factors with each group of
    /// 2·<c>TS.Count</c> in the deinterleaved order (relative to <paramref name="factors"/>).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void MultiplyPairs<T>(void* w, nint index, int count, float* factors, float* deinterleaved) where T : IStorage
    {
        int nv = TS.Count;
        int j = 0;
        for (; j + 2 * nv <= count; j += 2 * nv)
        {
            PairStorage.Load<TS, TV, T>(w, index + j, out TV even, out TV odd);
            PairStorage.Store<TS, TV, T>(w, index + j, TS.Multiply(even, TS.LoadF32(deinterleaved + j)), TS.Multiply(odd, TS.LoadF32(deinterleaved + j + nv)), false);
        }
        if (j < count)
            T.StoreTested<TS, TV>(w, index + j, TS.Multiply(T.Load<TS, TV>(w, index + j), TS.LoadF32(factors + j)));
    }

    /// <summary><c>dst[index + j] = src[j]</c>, rounded once; non-temporal when <typeparamref name="TStore"/> says so (then <c>dst + index</c> is aligned to the vector's stored size).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Store<T, TStore>(float* src, void* dst, nint index, int count) where T : IStorage where TStore : IStoreKind
    {
        int nv = TS.Count;
        for (int j = 0; j < count; j += nv)
        {
            if (TStore.NonTemporal)
                T.StoreNonTemporal<TS, TV>(dst, index + j, TS.LoadF32(src + j));
            else
                T.StoreTested<TS, TV>(dst, index + j, TS.LoadF32(src + j));
        }
    }
}
