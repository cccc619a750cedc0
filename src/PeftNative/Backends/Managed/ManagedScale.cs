using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace PeftNative.Backends.Managed;

/// <summary>
/// (IA)^3 row and column scaling in place: <c>W[i, j] *= m</c> with m = l or, for the inverse,
/// <c>(float)(1.0 / l)</c> computed once per value (within 1 ulp of the reference's division).
/// The multipliers are converted to f32 once; each row is one vector loop whose ragged tail is
/// the last full vector, loaded before the loop and stored after it.
/// </summary>
internal static unsafe class ManagedScale
{
    private const int MinPerThread = 1 << 16;

    /// <summary>Runs the kernel; arguments are valid and non-empty.</summary>
    public static void Run(ManagedVectorWidth width, int threads, Tensor weight, Tensor scale, bool inverse, bool rows)
    {
        long count = scale.ElementCount;
        float* factors = (float*)NativeMemory.AlignedAlloc((nuint)(count * sizeof(float)), 64);
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
            var args = new Args((void*)weight.Pointer, (nint)weight.Columns, factors, rows, threads);
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
        public readonly bool Rows;
        public readonly int Threads;

        public Args(void* weight, nint columns, float* factors, bool rows, int threads)
        {
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

        public readonly void Run(nint start, nint end)
        {
            nint cols = A.Columns;
            int nv = TS.Count;
            for (nint r = start; r < end; r++)
            {
                void* row = (byte*)A.Weight + (long)r * cols * TW.Size;
                if (A.Rows)
                    ScaleRow(row, cols, A.Factors[r], nv);
                else
                    ScaleRowByColumns(row, cols, A.Factors, nv);
            }
        }

        private static void ScaleRow(void* row, nint cols, float factor, int nv)
        {
            if (cols < nv)
            {
                for (nint j = 0; j < cols; j++)
                    TW.StoreScalar(row, j, TW.LoadScalar(row, j) * factor);
                return;
            }
            TV m = TS.Broadcast(factor);
            nint last = cols - nv;
            TV tail = TS.Multiply(TW.Load<TS, TV>(row, last), m);
            nint i = 0;
            for (; i + 2 * nv <= cols; i += 2 * nv)
            {
                TV v0 = TW.Load<TS, TV>(row, i), v1 = TW.Load<TS, TV>(row, i + nv);
                TW.Store<TS, TV>(row, i, TS.Multiply(v0, m));
                TW.Store<TS, TV>(row, i + nv, TS.Multiply(v1, m));
            }
            for (; i + nv <= cols; i += nv)
                TW.Store<TS, TV>(row, i, TS.Multiply(TW.Load<TS, TV>(row, i), m));
            TW.Store<TS, TV>(row, last, tail);
        }

        private static void ScaleRowByColumns(void* row, nint cols, float* factors, int nv)
        {
            if (cols < nv)
            {
                for (nint j = 0; j < cols; j++)
                    TW.StoreScalar(row, j, TW.LoadScalar(row, j) * factors[j]);
                return;
            }
            nint last = cols - nv;
            TV tail = TS.Multiply(TW.Load<TS, TV>(row, last), TS.LoadF32(factors + last));
            nint i = 0;
            for (; i + nv <= cols; i += nv)
                TW.Store<TS, TV>(row, i, TS.Multiply(TW.Load<TS, TV>(row, i), TS.LoadF32(factors + i)));
            TW.Store<TS, TV>(row, last, tail);
        }
    }
}
