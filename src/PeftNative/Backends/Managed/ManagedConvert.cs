using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace PeftNative.Backends.Managed;

/// <summary>
/// dtype conversion f32 ↔ f16 ↔ bf16 (and same-dtype copies, which quiet 16-bit NaNs as the
/// scalar rule does): vector loads widen exactly, vector stores round to nearest even with the
/// bit-exact integer conversions of the width structs. In place (same element size) is safe:
/// each vector is read before it is written, and the ragged tail is the last full vector, read
/// before the loop and stored after it.
/// </summary>
internal static unsafe class ManagedConvert
{
    private const int MinPerThread = 1 << 17;

    /// <summary>Runs the kernel; arguments are valid and non-empty.</summary>
    public static void Run(ManagedVectorWidth width, int threads, Tensor source, Tensor destination)
    {
        bool inPlace = source.IsSameMemory(destination);
        bool nonTemporal = !inPlace && destination.ByteLength >= ManagedAffine.NonTemporalBytes && destination.Pointer % 64 == 0;
        var args = new Args((void*)source.Pointer, (void*)destination.Pointer, nonTemporal, threads);
        nint n = (nint)source.ElementCount;
        switch (width)
        {
            case ManagedVectorWidth.V512: Dispatch<Simd512, Vector512<float>>(args, source.DType, destination.DType, n); break;
            case ManagedVectorWidth.V256: Dispatch<Simd256, Vector256<float>>(args, source.DType, destination.DType, n); break;
            case ManagedVectorWidth.V128: Dispatch<Simd128, Vector128<float>>(args, source.DType, destination.DType, n); break;
            default: Dispatch<SimdScalar, float>(args, source.DType, destination.DType, n); break;
        }
        GC.KeepAlive(source);
        GC.KeepAlive(destination);
    }

    private readonly struct Args
    {
        public readonly void* Source;
        public readonly void* Destination;
        public readonly bool NonTemporal;
        public readonly int Threads;

        public Args(void* source, void* destination, bool nonTemporal, int threads)
        {
            Source = source;
            Destination = destination;
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
            case DType.F32: Dispatch<TS, TV, TIn, F32Storage>(a, n); break;
            case DType.F16: Dispatch<TS, TV, TIn, F16Storage>(a, n); break;
            default: Dispatch<TS, TV, TIn, BF16Storage>(a, n); break;
        }
    }

    private static void Dispatch<TS, TV, TIn, TOut>(Args a, nint n) where TS : ISimd<TV> where TV : unmanaged where TIn : IStorage where TOut : IStorage
    {
        if (a.NonTemporal)
            ManagedParallel.For(new Job<TS, TV, TIn, TOut, NonTemporalStores> { A = a }, n, 256, MinPerThread, a.Threads);
        else
            ManagedParallel.For(new Job<TS, TV, TIn, TOut, CachedStores> { A = a }, n, 256, MinPerThread, a.Threads);
        if (a.NonTemporal && Sse.IsSupported)
            Sse.StoreFence();
    }

    private struct Job<TS, TV, TIn, TOut, TStore> : IRangeJob
        where TS : ISimd<TV> where TV : unmanaged where TIn : IStorage where TOut : IStorage where TStore : IStoreKind
    {
        public Args A;

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public readonly void Run(nint start, nint end)
        {
            int nv = TS.Count;
            void* src = A.Source, dst = A.Destination;
            if (end - start < nv)
            {
                for (nint j = start; j < end; j++)
                    TOut.StoreScalar(dst, j, TIn.LoadScalar(src, j));
                return;
            }
            float* tail = stackalloc float[nv];
            nint last = end - nv;
            ManagedBlock<TS, TV>.Load<TIn>(src, last, tail, nv);
            nint full = start + (end - start) / nv * nv;
            for (nint j = start; j < full; j += ManagedBlock<TS, TV>.Size)
                ManagedBlock<TS, TV>.Convert<TIn, TOut, TStore>(src, dst, j, (int)Math.Min(ManagedBlock<TS, TV>.Size, full - j));
            ManagedBlock<TS, TV>.Store<TOut, CachedStores>(tail, dst, last, nv);
        }
    }
}
