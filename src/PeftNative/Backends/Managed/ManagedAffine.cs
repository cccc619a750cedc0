using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace PeftNative.Backends.Managed;

/// <summary>
/// Affine combination <c>out[j] = c + Σ_i w_i · x_i[j]</c>: one pass, blocks of elements in
/// registers, the inner loop over inputs (each input read once, out written once, f32 FMA
/// accumulation in input order, one rounding on store). In place is safe: every block is read
/// completely before it is written, and the ragged tail is the last full vector, computed
/// before the loop and stored after it. Large outputs that alias no input use non-temporal
/// stores (the write then costs no read for ownership).
/// </summary>
internal static unsafe class ManagedAffine
{
    /// <summary>Output size in bytes above which non-temporal stores pay (about the last-level cache).</summary>
    internal const long NonTemporalBytes = 8L << 20;

    /// <summary>Elements per thread below which another thread does not pay.</summary>
    private const int MinPerThread = 1 << 16;

    /// <summary>Runs the kernel; arguments are valid and non-empty.</summary>
    public static void Run(ManagedVectorWidth width, int threads, ReadOnlySpan<Tensor> inputs, ReadOnlySpan<float> weights, float constant, Tensor output)
    {
        int k = inputs.Length;
        void** pointers = stackalloc void*[k];
        bool inPlace = false;
        for (int i = 0; i < k; i++)
        {
            pointers[i] = (void*)inputs[i].Pointer;
            inPlace |= inputs[i].IsSameMemory(output);
        }
        long n = output.ElementCount;
        bool nonTemporal = !inPlace && output.ByteLength >= NonTemporalBytes && output.Pointer % 64 == 0;
        fixed (float* w = weights)
        {
            var args = new Args(pointers, w, k, constant, (void*)output.Pointer, nonTemporal, threads);
            switch (width)
            {
                case ManagedVectorWidth.V512: Dispatch<Simd512, Vector512<float>>(args, inputs[0].DType, output.DType, (nint)n); break;
                case ManagedVectorWidth.V256: Dispatch<Simd256, Vector256<float>>(args, inputs[0].DType, output.DType, (nint)n); break;
                case ManagedVectorWidth.V128: Dispatch<Simd128, Vector128<float>>(args, inputs[0].DType, output.DType, (nint)n); break;
                default: Dispatch<SimdScalar, float>(args, inputs[0].DType, output.DType, (nint)n); break;
            }
        }
        GC.KeepAlive(output);
    }

    private readonly struct Args
    {
        public readonly void** Inputs;
        public readonly float* Weights;
        public readonly int Count;
        public readonly float Constant;
        public readonly void* Output;
        public readonly bool NonTemporal;
        public readonly int Threads;

        public Args(void** inputs, float* weights, int count, float constant, void* output, bool nonTemporal, int threads)
        {
            Inputs = inputs;
            Weights = weights;
            Count = count;
            Constant = constant;
            Output = output;
            NonTemporal = nonTemporal;
            Threads = threads;
        }
    }

    private static void Dispatch<TS, TV>(Args a, DType input, DType output, nint n) where TS : ISimd<TV> where TV : unmanaged
    {
        switch (input)
        {
            case DType.F32: Dispatch<TS, TV, F32Storage>(a, output, n); break;
            case DType.F16: Dispatch<TS, TV, F16Storage>(a, output, n); break;
            default: Dispatch<TS, TV, BF16Storage>(a, output, n); break;
        }
    }

    private static void Dispatch<TS, TV, TIn>(Args a, DType output, nint n) where TS : ISimd<TV> where TV : unmanaged where TIn : IStorage
    {
        switch (output)
        {
            case DType.F32: Launch(new Job<TS, TV, TIn, F32Storage> { A = a }, a, n); break;
            case DType.F16: Launch(new Job<TS, TV, TIn, F16Storage> { A = a }, a, n); break;
            default: Launch(new Job<TS, TV, TIn, BF16Storage> { A = a }, a, n); break;
        }
    }

    private static void Launch<TJob>(TJob job, Args a, nint n) where TJob : struct, IRangeJob
    {
        ManagedParallel.For(job, n, align: 256, MinPerThread, a.Threads);
        if (a.NonTemporal && Sse.IsSupported)
            Sse.StoreFence();
    }

    private struct Job<TS, TV, TIn, TOut> : IRangeJob
        where TS : ISimd<TV> where TV : unmanaged where TIn : IStorage where TOut : IStorage
    {
        public Args A;

        public readonly void Run(nint start, nint end)
        {
            int nv = TS.Count;
            if (end - start < nv)
            {
                for (nint j = start; j < end; j++)
                {
                    float acc = A.Constant;
                    for (int i = 0; i < A.Count; i++)
                        acc = MathF.FusedMultiplyAdd(A.Weights[i], TIn.LoadScalar(A.Inputs[i], j), acc);
                    TOut.StoreScalar(A.Output, j, acc);
                }
                return;
            }
            // The last full vector, read before anything is written (the output may be an input).
            nint last = end - nv;
            TV tail = Combine(last);
            nint jj = A.NonTemporal ? Blocks<NonTemporalStores>(start, end) : Blocks<CachedStores>(start, end);
            for (; jj + nv <= end; jj += nv)
                TOut.Store<TS, TV>(A.Output, jj, Combine(jj));
            TOut.Store<TS, TV>(A.Output, last, tail);
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private readonly TV Combine(nint j)
        {
            TV acc = TS.Broadcast(A.Constant);
            for (int i = 0; i < A.Count; i++)
                acc = TS.Fma(TS.Broadcast(A.Weights[i]), TIn.Load<TS, TV>(A.Inputs[i], j), acc);
            return acc;
        }

        /// <summary>Four vectors per step; returns where it stopped.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private readonly nint Blocks<TStore>(nint start, nint end) where TStore : IStoreKind
        {
            int nv = TS.Count;
            void** inputs = A.Inputs;
            float* weights = A.Weights;
            int count = A.Count;
            void* output = A.Output;
            TV c = TS.Broadcast(A.Constant);
            nint j = start;
            for (; j + 4 * nv <= end; j += 4 * nv)
            {
                TV a0 = c, a1 = c, a2 = c, a3 = c;
                for (int i = 0; i < count; i++)
                {
                    void* x = inputs[i];
                    TV w = TS.Broadcast(weights[i]);
                    a0 = TS.Fma(w, TIn.Load<TS, TV>(x, j), a0);
                    a1 = TS.Fma(w, TIn.Load<TS, TV>(x, j + nv), a1);
                    a2 = TS.Fma(w, TIn.Load<TS, TV>(x, j + 2 * nv), a2);
                    a3 = TS.Fma(w, TIn.Load<TS, TV>(x, j + 3 * nv), a3);
                }
                if (TStore.NonTemporal)
                {
                    TOut.StoreNonTemporal<TS, TV>(output, j, a0);
                    TOut.StoreNonTemporal<TS, TV>(output, j + nv, a1);
                    TOut.StoreNonTemporal<TS, TV>(output, j + 2 * nv, a2);
                    TOut.StoreNonTemporal<TS, TV>(output, j + 3 * nv, a3);
                }
                else
                {
                    TOut.Store<TS, TV>(output, j, a0);
                    TOut.Store<TS, TV>(output, j + nv, a1);
                    TOut.Store<TS, TV>(output, j + 2 * nv, a2);
                    TOut.Store<TS, TV>(output, j + 3 * nv, a3);
                }
            }
            return j;
        }
    }
}
