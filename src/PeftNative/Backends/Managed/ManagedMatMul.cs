using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace PeftNative.Backends.Managed;

/// <summary>
/// Managed matrix product (System.Runtime.Intrinsics, no native code), the same blocking as
/// libpeft_native's <c>pn_cpu_matmul</c>:
/// <list type="bullet">
/// <item>m ≥ 3, GEMM: the columns of y are cut into chunks (a few per thread); for each k block of
/// <see cref="KC"/>, a chunk's columns of B (Wᵀ, or W when it is stored input-major) are packed
/// into f32 panels of NR = 2 vectors, k-major, converting f16/bf16 on the way, so each W element
/// is converted once per call and then serves every row of x; a register-blocked microkernel
/// (<see cref="MR"/> rows × NR columns, 12 vector accumulators) broadcasts x and FMAs it with a
/// panel, then adds the tile to y (or stores it, for the first k block without accumulate).
/// Nothing of W is converted or copied as a whole.</item>
/// <item>m ≤ 2, GEMV (decode): W is read in place and widened in registers.</item>
/// </list>
/// Results do not depend on <see cref="Threads"/>.
/// </summary>
public sealed unsafe class ManagedMatMul : IMatMul
{
    /// <summary>Rows of x per register tile.</summary>
    internal const int MR = 6;

    /// <summary>k block: a packed block of B (KC × chunk columns of f32) stays in L2.</summary>
    private const int KC = 256;

    /// <summary>Columns per chunk at most.</summary>
    private const int ChunkColumnsMax = 256;

    /// <summary>Chunks per thread, so that a thread slowed by the machine does not hold up the others.</summary>
    private const int ChunksPerThread = 4;

    /// <summary>Up to this many rows of x: GEMV, W read in place.</summary>
    private const int GemvMaxRows = 2;

    /// <summary>Multiply-adds per thread below which another thread does not pay.</summary>
    private const long MinFmaPerThread = 1L << 17;

    /// <summary>Creates the managed product.</summary>
    /// <param name="threads">Worker threads (&lt;= 0: all logical CPUs).</param>
    /// <param name="width">Vector width; <see cref="ManagedVectorWidth.Auto"/> picks the widest the hardware accelerates.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="width"/> is not a defined value.</exception>
    public ManagedMatMul(int threads = 0, ManagedVectorWidth width = ManagedVectorWidth.Auto)
    {
        if (!Enum.IsDefined(width))
            throw new ArgumentOutOfRangeException(nameof(width), width, "unknown vector width");
        Threads = threads <= 0 ? Environment.ProcessorCount : threads;
        Width = width == ManagedVectorWidth.Auto ? ManagedBackend.BestWidth : width;
        // As in ManagedBackend: the 256-bit f16 conversion reads a constant table.
        RuntimeHelpers.RunClassConstructor(typeof(Simd256).TypeHandle);
    }

    /// <inheritdoc/>
    public string Name => "managed";

    /// <inheritdoc/>
    public int Threads { get; }

    /// <summary>The vector width the product runs (never <see cref="ManagedVectorWidth.Auto"/>).</summary>
    public ManagedVectorWidth Width { get; }

    /// <inheritdoc/>
    public void MatMul(ReadOnlySpan<float> x, int m, Tensor weight, bool weightIsInputMajor, Span<float> y, bool accumulate = false)
    {
        var (n, k) = MatMulArguments.Validate("matmul", x, m, weight, weightIsInputMajor, y);
        if (m == 0 || n == 0)
            return;
        if (k == 0)
        {
            if (!accumulate)
                y.Clear();
            return;
        }
        fixed (float* xp = x)
        fixed (float* yp = y)
        {
            long fmas = (long)m * n * k;
            var a = new Args(xp, yp, (void*)weight.Pointer, m, n, k, weightIsInputMajor, accumulate,
                (int)Math.Clamp(fmas / MinFmaPerThread, 1, Threads));
            switch (Width)
            {
                case ManagedVectorWidth.V512: Run<Simd512, Vector512<float>>(a, weight.DType); break;
                case ManagedVectorWidth.V256: Run<Simd256, Vector256<float>>(a, weight.DType); break;
                case ManagedVectorWidth.V128: Run<Simd128, Vector128<float>>(a, weight.DType); break;
                default: Run<SimdScalar, float>(a, weight.DType); break;
            }
        }
        GC.KeepAlive(weight);
    }

    /// <inheritdoc/>
    public void Dispose() { }

    private readonly struct Args(float* x, float* y, void* w, int m, int n, int k, bool inputMajor, bool accumulate, int threads)
    {
        public readonly float* X = x;
        public readonly float* Y = y;
        public readonly void* W = w;
        public readonly int M = m;
        public readonly int N = n;
        public readonly int K = k;
        public readonly bool InputMajor = inputMajor;
        public readonly bool Accumulate = accumulate;
        public readonly int Threads = threads;
    }

    private static void Run<TS, TV>(Args a, DType dtype) where TS : ISimd<TV> where TV : unmanaged
    {
        switch (dtype)
        {
            case DType.F32: Run<TS, TV, F32Storage>(a); break;
            case DType.F16: Run<TS, TV, F16Storage>(a); break;
            default: Run<TS, TV, BF16Storage>(a); break;
        }
    }

    private static void Run<TS, TV, TW>(Args a) where TS : ISimd<TV> where TV : unmanaged where TW : IStorage
    {
        if (a.M <= GemvMaxRows)
        {
            int cols = ChunkColumns(a.N, a.Threads, a.InputMajor ? 4 * TS.Count : 4, int.MaxValue);
            ManagedParallel.For(new GemvJob<TS, TV, TW> { A = a, Cols = cols }, (a.N + cols - 1) / cols, 1, 1, a.Threads);
            return;
        }
        int nr = 2 * TS.Count;
        int kc = a.K <= KC + KC / 4 ? a.K : KC;
        int nc = ChunkColumns(a.N, a.Threads, nr, Math.Max(nr, ChunkColumnsMax));
        ManagedParallel.For(new GemmJob<TS, TV, TW> { A = a, Kc = kc, Nc = nc }, (a.N + nc - 1) / nc, 1, 1, a.Threads);
    }

    /// <summary>Columns per chunk: a multiple of <paramref name="unit"/>, about <see cref="ChunksPerThread"/> chunks per thread.</summary>
    private static int ChunkColumns(int n, int threads, int unit, int cap)
    {
        long want = (n + (long)threads * ChunksPerThread - 1) / ((long)threads * ChunksPerThread);
        long cols = (want + unit - 1) / unit * unit;
        if (cols > cap)
            cols = cap / unit * unit;
        return (int)Math.Max(unit, cols);
    }

    // ---- GEMM ----------------------------------------------------------------------------------

    private struct GemmJob<TS, TV, TW> : IRangeJob where TS : ISimd<TV> where TV : unmanaged where TW : IStorage
    {
        public Args A;
        public int Kc;
        public int Nc;

        public readonly void Run(nint start, nint end)
        {
            int nr = 2 * TS.Count;
            // The packed block, a row of W widened for the transposing pack, and a tile for ragged edges.
            nuint floats = (nuint)((long)Kc * Nc + Kc + MR * nr + 32);
            float* scratch = (float*)NativeMemory.AlignedAlloc(floats * sizeof(float), 64);
            try
            {
                float* bp = scratch, row = scratch + (long)Kc * Nc, tile = row + Kc + 16;
                for (nint chunk = start; chunk < end; chunk++)
                    Chunk(chunk, bp, row, tile);
            }
            finally
            {
                NativeMemory.AlignedFree(scratch);
            }
        }

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private readonly void Chunk(nint chunk, float* bp, float* row, float* tile)
        {
            int nr = 2 * TS.Count;
            nint n = A.N, k = A.K;
            nint j0 = chunk * Nc, j1 = Math.Min(n, j0 + Nc);
            nint panels = (j1 - j0 + nr - 1) / nr;
            for (nint pc = 0; pc < k; pc += Kc)
            {
                int kcb = (int)Math.Min(Kc, k - pc);
                for (nint q = 0; q < panels; q++)
                    PackPanel(pc, kcb, j0 + q * nr, bp + q * kcb * nr, row);
                bool add = A.Accumulate || pc > 0;
                for (nint i0 = 0; i0 < A.M; i0 += MR)
                {
                    int mr = (int)Math.Min(MR, A.M - i0);
                    float* xr = A.X + i0 * k + pc;
                    for (nint q = 0; q < panels; q++)
                    {
                        nint jj = j0 + q * nr;
                        int cols = (int)Math.Min(nr, j1 - jj);
                        Tile<TS, TV>(xr, k, mr, bp + q * kcb * nr, kcb, A.Y + i0 * n + jj, n, cols, add, tile);
                    }
                }
            }
        }

        /// <summary><c>dst[p][c] = B[pc + p][j0 + c]</c> for p &lt; kcb, c &lt; NR (zero past n), widened.</summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private readonly void PackPanel(nint pc, int kcb, nint j0, float* dst, float* row)
        {
            int nv = TS.Count, nr = 2 * nv;
            nint n = A.N, k = A.K;
            int cols = (int)Math.Min(nr, n - j0);
            void* w = A.W;
            if (A.InputMajor)
            {
                // W (k × n): a row slice of W is a row of the panel.
                for (nint p = 0; p < kcb; p++)
                {
                    nint src = (pc + p) * n + j0;
                    float* d = dst + p * nr;
                    if (cols == nr)
                    {
                        TS.StoreF32(d, TW.Load<TS, TV>(w, src));
                        TS.StoreF32(d + nv, TW.Load<TS, TV>(w, src + nv));
                    }
                    else
                    {
                        for (int c = 0; c < nr; c++)
                            d[c] = c < cols ? TW.LoadScalar(w, src + c) : 0f;
                    }
                }
                return;
            }
            // W (n × k): column c of the panel is a row of W. With AVX, 8 × 8 blocks are transposed in
            // registers; the rest (and other widths) is widened by vectors into a row, then scattered.
            int p0 = 0;
            if (typeof(TV) == typeof(Vector256<float>) && Avx.IsSupported && cols == nr)
            {
                for (; p0 + 8 <= kcb; p0 += 8)
                {
                    for (int g = 0; g < nr; g += 8)
                        Transpose8(w, (j0 + g) * k + pc + p0, k, dst + (nint)p0 * nr + g, nr);
                }
            }
            if (p0 == kcb)
                return;
            int full = (kcb - p0) / nv * nv;
            for (int c = 0; c < nr; c++)
            {
                if (c >= cols)
                {
                    for (nint p = p0; p < kcb; p++)
                        dst[p * nr + c] = 0f;
                    continue;
                }
                nint src = (j0 + c) * k + pc;
                ManagedBlock<TS, TV>.Load<TW>(w, src + p0, row, full);
                for (int p = p0 + full; p < kcb; p++)
                    row[p - p0] = TW.LoadScalar(w, src + p);
                for (nint p = p0; p < kcb; p++)
                    dst[p * nr + c] = row[p - p0];
            }
        }

        /// <summary>8 rows of W (8 values each, from <paramref name="src"/>, rows <paramref name="ldw"/> apart), widened, stored transposed: row q of the result at dst + q·ldd.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static void Transpose8(void* w, nint src, nint ldw, float* dst, nint ldd)
        {
            Vector256<float> r0 = Row(w, src), r1 = Row(w, src + ldw), r2 = Row(w, src + 2 * ldw), r3 = Row(w, src + 3 * ldw);
            Vector256<float> r4 = Row(w, src + 4 * ldw), r5 = Row(w, src + 5 * ldw), r6 = Row(w, src + 6 * ldw), r7 = Row(w, src + 7 * ldw);
            Vector256<float> t0 = Avx.UnpackLow(r0, r1), t1 = Avx.UnpackHigh(r0, r1), t2 = Avx.UnpackLow(r2, r3), t3 = Avx.UnpackHigh(r2, r3);
            Vector256<float> t4 = Avx.UnpackLow(r4, r5), t5 = Avx.UnpackHigh(r4, r5), t6 = Avx.UnpackLow(r6, r7), t7 = Avx.UnpackHigh(r6, r7);
            Vector256<float> s0 = Avx.Shuffle(t0, t2, 0x44), s1 = Avx.Shuffle(t0, t2, 0xEE), s2 = Avx.Shuffle(t1, t3, 0x44), s3 = Avx.Shuffle(t1, t3, 0xEE);
            Vector256<float> s4 = Avx.Shuffle(t4, t6, 0x44), s5 = Avx.Shuffle(t4, t6, 0xEE), s6 = Avx.Shuffle(t5, t7, 0x44), s7 = Avx.Shuffle(t5, t7, 0xEE);
            Avx.Permute2x128(s0, s4, 0x20).Store(dst);
            Avx.Permute2x128(s1, s5, 0x20).Store(dst + ldd);
            Avx.Permute2x128(s2, s6, 0x20).Store(dst + 2 * ldd);
            Avx.Permute2x128(s3, s7, 0x20).Store(dst + 3 * ldd);
            Avx.Permute2x128(s0, s4, 0x31).Store(dst + 4 * ldd);
            Avx.Permute2x128(s1, s5, 0x31).Store(dst + 5 * ldd);
            Avx.Permute2x128(s2, s6, 0x31).Store(dst + 6 * ldd);
            Avx.Permute2x128(s3, s7, 0x31).Store(dst + 7 * ldd);

            static Vector256<float> Row(void* w, nint i)
            {
                TV v = TW.Load<TS, TV>(w, i);
                return Unsafe.As<TV, Vector256<float>>(ref v);
            }
        }
    }

    /// <summary>
    /// y tile (mr × cols, row stride ldy) [+]= x rows (stride ldx) · packed panel, over kcb values of k.
    /// Rows past mr repeat the last valid row (their results are dropped); columns past cols read the padding.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static void Tile<TS, TV>(float* x, nint ldx, int mr, float* bp, int kcb, float* y, nint ldy, int cols, bool add, float* tile)
        where TS : ISimd<TV> where TV : unmanaged
    {
        int nv = TS.Count, nr = 2 * nv;
        float* x0 = x;
        float* x1 = mr > 1 ? x0 + ldx : x0;
        float* x2 = mr > 2 ? x1 + ldx : x1;
        float* x3 = mr > 3 ? x2 + ldx : x2;
        float* x4 = mr > 4 ? x3 + ldx : x3;
        float* x5 = mr > 5 ? x4 + ldx : x4;
        TV c00 = TS.Broadcast(0f), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00;
        TV c30 = c00, c31 = c00, c40 = c00, c41 = c00, c50 = c00, c51 = c00;
        for (nint p = 0; p < kcb; p++)
        {
            TV b0 = TS.LoadF32(bp), b1 = TS.LoadF32(bp + nv);
            bp += nr;
            TV a = TS.Broadcast(x0[p]);
            c00 = TS.Fma(a, b0, c00);
            c01 = TS.Fma(a, b1, c01);
            a = TS.Broadcast(x1[p]);
            c10 = TS.Fma(a, b0, c10);
            c11 = TS.Fma(a, b1, c11);
            a = TS.Broadcast(x2[p]);
            c20 = TS.Fma(a, b0, c20);
            c21 = TS.Fma(a, b1, c21);
            a = TS.Broadcast(x3[p]);
            c30 = TS.Fma(a, b0, c30);
            c31 = TS.Fma(a, b1, c31);
            a = TS.Broadcast(x4[p]);
            c40 = TS.Fma(a, b0, c40);
            c41 = TS.Fma(a, b1, c41);
            a = TS.Broadcast(x5[p]);
            c50 = TS.Fma(a, b0, c50);
            c51 = TS.Fma(a, b1, c51);
        }
        bool whole = mr == MR && cols == nr;
        float* t = whole ? y : tile;
        nint ld = whole ? ldy : nr;
        bool addHere = whole && add;
        Store(t, nv, c00, c01, addHere);
        Store(t + ld, nv, c10, c11, addHere);
        Store(t + 2 * ld, nv, c20, c21, addHere);
        Store(t + 3 * ld, nv, c30, c31, addHere);
        Store(t + 4 * ld, nv, c40, c41, addHere);
        Store(t + 5 * ld, nv, c50, c51, addHere);
        if (whole)
            return;
        for (int i = 0; i < mr; i++)
            for (int j = 0; j < cols; j++)
                y[i * ldy + j] = add ? y[i * ldy + j] + tile[i * nr + j] : tile[i * nr + j];

        static void Store(float* d, int nv, TV lo, TV hi, bool add)
        {
            if (add)
            {
                lo = TS.Add(TS.LoadF32(d), lo);
                hi = TS.Add(TS.LoadF32(d + nv), hi);
            }
            TS.StoreF32(d, lo);
            TS.StoreF32(d + nv, hi);
        }
    }

    // ---- GEMV (decode) -------------------------------------------------------------------------

    private struct GemvJob<TS, TV, TW> : IRangeJob where TS : ISimd<TV> where TV : unmanaged where TW : IStorage
    {
        public Args A;
        public int Cols;

        public readonly void Run(nint start, nint end)
        {
            float* lanes = stackalloc float[64];
            for (nint chunk = start; chunk < end; chunk++)
            {
                nint j0 = chunk * Cols, j1 = Math.Min(A.N, j0 + Cols);
                // the chunk's slice of W stays in cache from one row of x to the next
                for (nint r = 0; r < A.M; r++)
                {
                    if (A.InputMajor)
                        Columns(A.X + r * A.K, A.Y + r * A.N, j0, j1);
                    else
                        Rows(A.X + r * A.K, A.Y + r * A.N, j0, j1, lanes);
                }
            }
        }

        /// <summary>y[j] [+]= dot(x, W[j, :]) for W (n × k), four rows of W at a time.</summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private readonly void Rows(float* x, float* y, nint j0, nint j1, float* lanes)
        {
            int nv = TS.Count;
            nint k = A.K, kv = k / nv * nv;
            void* w = A.W;
            nint j = j0;
            for (; j + 4 <= j1; j += 4)
            {
                nint r0 = j * k, r1 = r0 + k, r2 = r1 + k, r3 = r2 + k;
                TV a0 = TS.Broadcast(0f), a1 = a0, a2 = a0, a3 = a0;
                for (nint p = 0; p < kv; p += nv)
                {
                    TV xv = TS.LoadF32(x + p);
                    a0 = TS.Fma(xv, TW.Load<TS, TV>(w, r0 + p), a0);
                    a1 = TS.Fma(xv, TW.Load<TS, TV>(w, r1 + p), a1);
                    a2 = TS.Fma(xv, TW.Load<TS, TV>(w, r2 + p), a2);
                    a3 = TS.Fma(xv, TW.Load<TS, TV>(w, r3 + p), a3);
                }
                Finish(x, y, j, kv, a0, lanes);
                Finish(x, y, j + 1, kv, a1, lanes);
                Finish(x, y, j + 2, kv, a2, lanes);
                Finish(x, y, j + 3, kv, a3, lanes);
            }
            for (; j < j1; j++)
            {
                TV a0 = TS.Broadcast(0f);
                for (nint p = 0; p < kv; p += nv)
                    a0 = TS.Fma(TS.LoadF32(x + p), TW.Load<TS, TV>(w, j * k + p), a0);
                Finish(x, y, j, kv, a0, lanes);
            }
        }

        /// <summary>Sums the lanes of <paramref name="acc"/>, adds the scalar tail of row j from kv on, and stores y[j].</summary>
        private readonly void Finish(float* x, float* y, nint j, nint kv, TV acc, float* lanes)
        {
            TS.StoreF32(lanes, acc);
            float s = 0f;
            for (int i = 0; i < TS.Count; i++)
                s += lanes[i];
            for (nint p = kv; p < A.K; p++)
                s = MathF.FusedMultiplyAdd(x[p], TW.LoadScalar(A.W, j * A.K + p), s);
            y[j] = A.Accumulate ? y[j] + s : s;
        }

        /// <summary>y[j] [+]= Σ_p x[p] W[p, j] for W (k × n), four vectors of columns at a time.</summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private readonly void Columns(float* x, float* y, nint j0, nint j1)
        {
            int nv = TS.Count;
            nint k = A.K, n = A.N;
            void* w = A.W;
            nint j = j0;
            for (; j + 4 * nv <= j1; j += 4 * nv)
            {
                TV c0 = TS.Broadcast(0f), c1 = c0, c2 = c0, c3 = c0;
                for (nint p = 0; p < k; p++)
                {
                    TV xb = TS.Broadcast(x[p]);
                    nint r = p * n + j;
                    c0 = TS.Fma(xb, TW.Load<TS, TV>(w, r), c0);
                    c1 = TS.Fma(xb, TW.Load<TS, TV>(w, r + nv), c1);
                    c2 = TS.Fma(xb, TW.Load<TS, TV>(w, r + 2 * nv), c2);
                    c3 = TS.Fma(xb, TW.Load<TS, TV>(w, r + 3 * nv), c3);
                }
                StoreY(y + j, c0);
                StoreY(y + j + nv, c1);
                StoreY(y + j + 2 * nv, c2);
                StoreY(y + j + 3 * nv, c3);
            }
            for (; j + nv <= j1; j += nv)
            {
                TV c0 = TS.Broadcast(0f);
                for (nint p = 0; p < k; p++)
                    c0 = TS.Fma(TS.Broadcast(x[p]), TW.Load<TS, TV>(w, p * n + j), c0);
                StoreY(y + j, c0);
            }
            for (; j < j1; j++)
            {
                float s = 0f;
                for (nint p = 0; p < k; p++)
                    s = MathF.FusedMultiplyAdd(x[p], TW.LoadScalar(w, p * n + j), s);
                y[j] = A.Accumulate ? y[j] + s : s;
            }
        }

        private readonly void StoreY(float* d, TV v) => TS.StoreF32(d, A.Accumulate ? TS.Add(TS.LoadF32(d), v) : v);
    }
}
