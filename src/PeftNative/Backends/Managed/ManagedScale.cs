using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace PeftNative.Backends.Managed;

/// <summary>
/// (IA)^3 row and column scaling in place: <c>W[i, j] *= m</c> with m = l or, for the inverse,
/// <c>(float)(1.0 / l)</c> computed once per value (within 1 ulp of the reference's division).
/// The multipliers are converted to f32 once; each row is one vector loop whose ragged tail is
/// the last full vector, loaded before the loop and stored after it. 16-bit W is loaded and
/// stored as deinterleaved pairs (no widening or narrowing shuffles), with column multipliers
/// also kept in that order.
/// </summary>
internal static unsafe class ManagedScale
{
    private const int MinPerThread = 1 << 16;

    /// <summary>Runs the kernel; arguments are valid and non-empty.</summary>
    public static void Run(ManagedVectorWidth width, int threads, Tensor weight, Tensor scale, bool inverse, bool rows)
    {
        long count = scale.ElementCount;
        // Column factors for 16-bit W also in the deinterleaved order of the pair loads, after the plain ones.
        bool deinterleave = !rows && weight.DType != DType.F32;
        float* factors = (float*)NativeMemory.AlignedAlloc((nuint)((deinterleave ? 2 : 1) * count * sizeof(float)), 64);
        try
        {
            void* l = (void*)scale.Pointer;
            for (nint i = 0; i < (nint)count; i++)
            {
                float v = scale.DType switch
                {
                    DType.F32 => F32Storage.LoadScalar(l, i),
                    DType.F16 => F16Storage.LoadScalar(l, i),
                    _ => BF16Storage.LoadScalar(l, i),
                };
                factors[i] = inverse ? (float)(1.0 / v) : v;
            }
            if (deinterleave)
            {
                int nr = 2 * width switch
                {
                    ManagedVectorWidth.V512 => Vector512<float>.Count,
                    ManagedVectorWidth.V256 => Vector256<float>.Count,
                    ManagedVectorWidth.V128 => Vector128<float>.Count,
                    _ => 1,
                };
                float* permuted = factors + count;
                for (nint j0 = 0; j0 + nr <= (nint)count; j0 += nr)
                {
                    for (int c = 0; c < nr; c++)
                        permuted[j0 + PairStorage.Position(c, nr / 2)] = factors[j0 + c];
                }
            }
            var args = new Args((void*)weight.Pointer, (nint)weight.Columns, factors, deinterleave ? factors + count : null, rows, threads);
            nint rowCount = (nint)weight.Rows;
            switch (width)
            {
                case ManagedVectorWidth.V512: Dispatch<Simd512, Vector512<float>>(args, weight.DType, rowCount); break;
                case ManagedVectorWidth.V256: Dispatch<Simd256, Vector256<float>>(args, weight.DType, rowCount); break;
                case ManagedVectorWidth.V128: Dispatch<Simd128, Vector128<float>>(args, weight.DType, rowCount); break;
                default: Dispatch<SimdScalar, float>(args, weight.DType, rowCount); break;
            }
        }
        finally
        {
            NativeMemory.AlignedFree(factors);
        }
        GC.KeepAlive(weight);
        GC.KeepAlive(scale);
    }

    private readonly struct Args
    {
        public readonly void* Weight;
        public readonly nint Columns;
        public readonly float* Factors;
        public readonly float* Deinterleaved;
        public readonly bool Rows;
        public readonly int Threads;

        public Args(void* weight, nint columns, float* factors, float* deinterleaved, bool rows, int threads)
        {
            Deinterleaved = deinterleaved;
            Weight = weight;
            Columns = columns;
            Factors = factors;
            Rows = rows;
            Threads = threads;
        }
    }

    private static void Dispatch<TS, TV>(Args a, DType dtype, nint rows) where TS : ISimd<TV> where TV : unmanaged
    {
        nint minRows = Math.Max(1, MinPerThread / Math.Max(1, a.Columns));
        switch (dtype)
        {
            case DType.F32: ManagedParallel.For(new Job<TS, TV, F32Storage> { A = a }, rows, 1, minRows, a.Threads); break;
            case DType.F16: ManagedParallel.For(new Job<TS, TV, F16Storage> { A = a }, rows, 1, minRows, a.Threads); break;
            default: ManagedParallel.For(new Job<TS, TV, BF16Storage> { A = a }, rows, 1, minRows, a.Threads); break;
        }
    }

    private struct Job<TS, TV, TW> : IRangeJob where TS : ISimd<TV> where TV : unmanaged where TW : IStorage
    {
        public Args A;

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public readonly void Run(nint start, nint end)
        {
            nint cols = A.Columns;
            int nv = TS.Count;
            float* tail = stackalloc float[nv];
            for (nint r = start; r < end; r++)
            {
                void* w = A.Weight;
                nint row = r * cols;
                float factor = A.Rows ? A.Factors[r] : 0f;
                if (cols < nv)
                {
                    for (nint j = 0; j < cols; j++)
                        TW.StoreScalar(w, row + j, TW.LoadScalar(w, row + j) * (A.Rows ? factor : A.Factors[j]));
                    continue;
                }
                // The last full vector first (read before the blocks write), stored last.
                nint last = cols - nv;
                if (A.Rows)
                    ManagedBlock<TS, TV>.LoadMultiply<TW>(w, row + last, tail, nv, factor);
                else
                    ManagedBlock<TS, TV>.LoadMultiply<TW>(w, row + last, tail, nv, A.Factors + last);
                nint full = cols / nv * nv;
                for (nint j = 0; j < full; j += ManagedBlock<TS, TV>.Size)
                {
                    int count = (int)Math.Min(ManagedBlock<TS, TV>.Size, full - j);
                    if (TW.Size == 2)
                    {
                        // 16-bit W: deinterleaved pairs, no widening or narrowing shuffles.
                        if (A.Rows)
                            ManagedBlock<TS, TV>.MultiplyPairs<TW>(w, row + j, count, factor);
                        else
                            ManagedBlock<TS, TV>.MultiplyPairs<TW>(w, row + j, count, A.Factors + j, A.Deinterleaved + j);
                    }
                    else if (A.Rows)
                        ManagedBlock<TS, TV>.Multiply<TW>(w, row + j, count, factor);
                    else
                        ManagedBlock<TS, TV>.Multiply<TW>(w, row + j, count, A.Factors + j);
                }
                ManagedBlock<TS, TV>.Store<TW, CachedStores>(tail, w, row + last, nv);
            }
        }
    }
}
