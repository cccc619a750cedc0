using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace PeftNative.Backends.Managed;

/// <summary>
/// Affine combination <c>out[j] = c + Σ_i w_i · x_i[j]</c> in one pass, f32 FMA accumulation in
/// input order, one rounding on store. f32 and bf16 accumulate two vectors at a time in registers
/// across all inputs (16-bit inputs with a 16-bit output loaded and stored as deinterleaved
/// pairs, see <see cref="ManagedBlock{TS, TV}.CombineStorePairs{TIn, TOut, TStore}"/>, f16
/// included); when f16 is mixed with f32 (its conversions need many constants, which would
/// spill) every input but the last is accumulated into an L1 block of
/// <see cref="ManagedBlock{TS, TV}.Size"/> elements and the last is fused with the store. Each
/// input is read once and the output written once; in place is safe because a block is read completely
/// before it is written, and the ragged tail is the last full vector, computed before the blocks
/// and stored after them. Large outputs that alias no input use non-temporal stores (the write
/// then costs no read for ownership).
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
        nint n = (nint)output.ElementCount;
        bool nonTemporal = !inPlace && output.ByteLength >= NonTemporalBytes && output.Pointer % 64 == 0;
        fixed (float* w = weights)
        {
            var args = new Args(pointers, w, k, constant, (void*)output.Pointer);
            switch (width)
            {
                case ManagedVectorWidth.V512: Dispatch<Simd512, Vector512<float>>(args, inputs[0].DType, output.DType, n, nonTemporal, threads); break;
                case ManagedVectorWidth.V256: Dispatch<Simd256, Vector256<float>>(args, inputs[0].DType, output.DType, n, nonTemporal, threads); break;
                case ManagedVectorWidth.V128: Dispatch<Simd128, Vector128<float>>(args, inputs[0].DType, output.DType, n, nonTemporal, threads); break;
                default: Dispatch<SimdScalar, float>(args, inputs[0].DType, output.DType, n, nonTemporal, threads); break;
            }
        }
        if (nonTemporal && Sse.IsSupported)
            Sse.StoreFence();
        GC.KeepAlive(output);
    }

    private readonly struct Args
    {
        public readonly void** Inputs;
        public readonly float* Weights;
        public readonly int Count;
        public readonly float Constant;
        public readonly void* Output;

        public Args(void** inputs, float* weights, int count, float constant, void* output)
        {
            Inputs = inputs;
            Weights = weights;
            Count = count;
            Constant = constant;
            Output = output;
        }
    }

    private static void Dispatch<TS, TV>(Args a, DType input, DType output, nint n, bool nonTemporal, int threads) where TS : ISimd<TV> where TV : unmanaged
    {
        switch (input)
        {
            case DType.F32: Dispatch<TS, TV, F32Storage>(a, output, n, nonTemporal, threads); break;
            case DType.F16: Dispatch<TS, TV, F16Storage>(a, output, n, nonTemporal, threads); break;
            default: Dispatch<TS, TV, BF16Storage>(a, output, n, nonTemporal, threads); break;
        }
    }

    private static void Dispatch<TS, TV, TIn>(Args a, DType output, nint n, bool nonTemporal, int threads) where TS : ISimd<TV> where TV : unmanaged where TIn : IStorage
    {
        switch (output)
        {
            case DType.F32: Dispatch<TS, TV, TIn, F32Storage>(a, n, nonTemporal, threads); break;
            case DType.F16: Dispatch<TS, TV, TIn, F16Storage>(a, n, nonTemporal, threads); break;
            default: Dispatch<TS, TV, TIn, BF16Storage>(a, n, nonTemporal, threads); break;
        }
    }

    private static void Dispatch<TS, TV, TIn, TOut>(Args a, nint n, bool nonTemporal, int threads)
        where TS : ISimd<TV> where TV : unmanaged where TIn : IStorage where TOut : IStorage
    {
        // Chunk starts are multiples of 256 elements, so blocks stay aligned for non-temporal stores.
        if (nonTemporal)
            ManagedParallel.For(new Job<TS, TV, TIn, TOut, NonTemporalStores> { A = a }, n, 256, MinPerThread, threads);
        else
            ManagedParallel.For(new Job<TS, TV, TIn, TOut, CachedStores> { A = a }, n, 256, MinPerThread, threads);
    }

    private struct Job<TS, TV, TIn, TOut, TStore> : IRangeJob
        where TS : ISimd<TV> where TV : unmanaged where TIn : IStorage where TOut : IStorage where TStore : IStoreKind
    {
        public Args A;

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
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
            float* block = stackalloc float[ManagedBlock<TS, TV>.Size];
            // The last full vector, read before anything is written (the output may be an input).
            float* tail = stackalloc float[nv];
            nint last = end - nv;
            Accumulate(last, tail, nv, A.Count);
            nint full = start + (end - start) / nv * nv;
            int k = A.Count;
            for (nint j = start; j < full; j += ManagedBlock<TS, TV>.Size)
            {
                int count = (int)Math.Min(ManagedBlock<TS, TV>.Size, full - j);
                if (TIn.Size == 2 && TOut.Size == 2)
                {
                    // 16-bit in and out: deinterleaved pairs accumulated in registers across all inputs.
                    ManagedBlock<TS, TV>.CombineStorePairs<TIn, TOut, TStore>(A.Inputs, A.Weights, k, A.Constant, A.Output, j, count);
                }
                else if (TIn.DType != DType.F16 && TOut.DType != DType.F16)
                {
                    // f32/bf16: accumulate in registers across all inputs (few conversion constants).
                    ManagedBlock<TS, TV>.CombineStore<TIn, TOut, TStore>(A.Inputs, A.Weights, k, A.Constant, A.Output, j, count);
                }
                else if (k == 1)
                {
                    ManagedBlock<TS, TV>.MultiplyAddStore<TIn, TOut, TStore>(A.Inputs[0], j, A.Weights[0], A.Constant, A.Output, count);
                }
                else
                {
                    // Every term but the last into the block, the last fused with the rounding store.
                    Accumulate(j, block, count, k - 1);
                    ManagedBlock<TS, TV>.MultiplyAddStore<TIn, TOut, TStore>(A.Inputs[k - 1], j, A.Weights[k - 1], block, A.Output, count);
                }
            }
            ManagedBlock<TS, TV>.Store<TOut, CachedStores>(tail, A.Output, last, nv);
        }

        /// <summary>The first <paramref name="terms"/> terms (with the constant) into <paramref name="acc"/>.</summary>
        private readonly void Accumulate(nint index, float* acc, int count, int terms)
        {
            ManagedBlock<TS, TV>.MultiplyAddFirst<TIn>(A.Inputs[0], index, A.Weights[0], A.Constant, acc, count);
            for (int i = 1; i < terms; i++)
                ManagedBlock<TS, TV>.MultiplyAdd<TIn>(A.Inputs[i], index, A.Weights[i], acc, count);
        }
    }
}
