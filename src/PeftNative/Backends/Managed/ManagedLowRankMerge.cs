using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace PeftNative.Backends.Managed;

/// <summary>
/// Multi-adapter low-rank merge <c>W += Σ_k s_k B_k A_k</c> (or its transpose), as a GEMM with
/// beta = 1 over W's storage layout (rows × cols):
/// <list type="number">
/// <item>All factors are packed once into f32 scratch, in the layouts the microkernel reads:
/// the left factor L (rows × R, R = Σ r_k) in row tiles of <see cref="MR"/> rows, each stored
/// r-major (<c>[R][MR]</c>, the scale s_k folded in); the right factor (R × cols) in panels of
/// NR = 2 vectors of columns, each <c>[R][NR]</c>; zero padding to whole tiles. Not transposed:
/// L = [s_1 B_1 | … | s_K B_K], right = [A_1; …; A_K]. fan_in_fan_out (W is in × out): L = the
/// scaled Aᵀ, right = Bᵀ. For 16-bit W each panel's columns are packed deinterleaved (even
/// columns first, then odd), the order in which <see cref="ISimd{TV}.LoadBF16x2"/> and
/// <see cref="ISimd{TV}.LoadF16x2"/> widen one 2-vector row slice of W without a shuffle.</item>
/// <item>A register-blocked microkernel loads an MR × NR tile of W into 12 f32 vector
/// accumulators, adds Σ_r L[m, r] · right[r, n] by broadcast and FMA (in r order), and stores
/// the tile back with one rounding. W is read and written exactly once.</item>
/// <item>Columns are blocked so that one block of the packed right factor stays in L2 while
/// every row tile of a thread's share passes over it; threads split the row tiles. Full tiles
/// of W are updated in place by the microkernel (16-bit W loaded and stored as deinterleaved
/// pairs: bf16 widening is a shift and a mask, narrowing a 16-bit blend). The ragged edges of
/// any W go through an f32 strip (for 16-bit W in the deinterleaved panel order)
/// (MR × 256 columns on the stack, zero-padded to whole tiles): widened once, updated by the
/// same microkernel, rounded once on the way back, so every element sees the same arithmetic
/// (all widths give bit-identical results) and the conversions run in their own short loops
/// instead of crowding the microkernel's registers.</item>
/// </list>
/// </summary>
internal static unsafe class ManagedLowRankMerge
{
    /// <summary>Rows per register tile.</summary>
    internal const int MR = 6;

    /// <summary>Bytes of packed right factor per column block (about half of a 512 KiB L2).</summary>
    private const int RightBlockBytes = 256 << 10;

    /// <summary>Columns of the f32 staging strip (a multiple of every NR).</summary>
    private const int StripColumns = 256;

    /// <summary>Multiply-adds per thread below which another thread does not pay.</summary>
    private const long MinFmaPerThread = 1L << 21;

    /// <summary>Runs the kernel; arguments are valid, W non-empty, at least one update.</summary>
    public static void Run(ManagedVectorWidth width, int threads, Tensor weight, ReadOnlySpan<LowRankUpdate> updates, bool fanInFanOut)
    {
        int nv = width switch
        {
            ManagedVectorWidth.V512 => Vector512<float>.Count,
            ManagedVectorWidth.V256 => Vector256<float>.Count,
            ManagedVectorWidth.V128 => Vector128<float>.Count,
            _ => 1,
        };
        nint rows = (nint)weight.Shape[0], cols = (nint)weight.Shape[1];
        nint rank = 0;
        foreach (var u in updates)
            rank += (nint)u.Rank;
        int nr = 2 * nv;
        nint rowTiles = (rows + MR - 1) / MR;
        nint panels = (cols + nr - 1) / nr;
        nuint leftBytes = (nuint)(rowTiles * MR * rank * sizeof(float));
        nuint rightBytes = (nuint)(panels * nr * rank * sizeof(float));
        float* left = (float*)NativeMemory.AlignedAlloc(leftBytes, 64);
        float* right = null;
        try
        {
            right = (float*)NativeMemory.AlignedAlloc(rightBytes, 64);
            // Zero padding rows and columns only matter for the last tile and panel; clear all (cheap next to the merge).
            NativeMemory.Clear(left, leftBytes);
            NativeMemory.Clear(right, rightBytes);
            // 16-bit W is loaded deinterleaved (even columns of a panel in the first vector, odd in
            // the second), so its right-factor panels are packed in that order.
            bool permute = weight.DType != DType.F32;
            nint offset = 0;
            foreach (var u in updates)
            {
                Pack(u, fanInFanOut, left, right, offset, rank, nr, permute);
                offset += (nint)u.Rank;
            }
            var args = new Args((void*)weight.Pointer, rows, cols, rank, left, right, threads);
            switch (width)
            {
                case ManagedVectorWidth.V512: Dispatch<Simd512, Vector512<float>>(args, weight.DType); break;
                case ManagedVectorWidth.V256: Dispatch<Simd256, Vector256<float>>(args, weight.DType); break;
                case ManagedVectorWidth.V128: Dispatch<Simd128, Vector128<float>>(args, weight.DType); break;
                default: Dispatch<SimdScalar, float>(args, weight.DType); break;
            }
        }
        finally
        {
            NativeMemory.AlignedFree(left);
            NativeMemory.AlignedFree(right);
        }
        GC.KeepAlive(weight);
        foreach (var u in updates)
        {
            GC.KeepAlive(u.A);
            GC.KeepAlive(u.B);
        }
    }

    private readonly struct Args
    {
        public readonly void* Weight;
        public readonly nint Rows;
        public readonly nint Cols;
        public readonly nint Rank;
        public readonly float* Left;
        public readonly float* Right;
        public readonly int Threads;

        public Args(void* weight, nint rows, nint cols, nint rank, float* left, float* right, int threads)
        {
            Weight = weight;
            Rows = rows;
            Cols = cols;
            Rank = rank;
            Left = left;
            Right = right;
            Threads = threads;
        }
    }

    private static void Dispatch<TS, TV>(Args a, DType dtype) where TS : ISimd<TV> where TV : unmanaged
    {
        nint rowTiles = (a.Rows + MR - 1) / MR;
        long fmaPerTile = (long)MR * a.Cols * Math.Max(a.Rank, 4);
        nint minTiles = (nint)Math.Max(1, MinFmaPerThread / Math.Max(1, fmaPerTile));
        switch (dtype)
        {
            case DType.F32: ManagedParallel.For(new Job<TS, TV, F32Storage> { A = a }, rowTiles, 1, minTiles, a.Threads); break;
            case DType.F16: ManagedParallel.For(new Job<TS, TV, F16Storage> { A = a }, rowTiles, 1, minTiles, a.Threads); break;
            default: ManagedParallel.For(new Job<TS, TV, BF16Storage> { A = a }, rowTiles, 1, minTiles, a.Threads); break;
        }
    }

    // ---- packing -------------------------------------------------------------------------------

    private static void Pack(in LowRankUpdate u, bool fanInFanOut, float* left, float* right, nint offset, nint rank, int nr, bool permute)
    {
        switch (u.B.DType)
        {
            case DType.F32: Pack<F32Storage>(u, fanInFanOut, left, right, offset, rank, nr, permute); break;
            case DType.F16: Pack<F16Storage>(u, fanInFanOut, left, right, offset, rank, nr, permute); break;
            default: Pack<BF16Storage>(u, fanInFanOut, left, right, offset, rank, nr, permute); break;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Pack<TF>(in LowRankUpdate u, bool fanInFanOut, float* left, float* right, nint offset, nint rank, int nr, bool permute) where TF : IStorage
    {
        void* b = (void*)u.B.Pointer, a = (void*)u.A.Pointer;
        nint r = (nint)u.Rank, outFeatures = (nint)u.B.Shape[0], inFeatures = (nint)u.A.Shape[1];
        float s = u.Scale;
        if (!fanInFanOut)
        {
            // Left = s·B (out × r), row-major source: L[o][offset + q] = s·B[o][q].
            for (nint o = 0; o < outFeatures; o++)
            {
                float* dst = left + ((o / MR) * rank + offset) * MR + o % MR;
                nint src = o * r;
                for (nint q = 0; q < r; q++)
                    dst[q * MR] = s * TF.LoadScalar(b, src + q);
            }
            // Right = A (r × in): right[offset + q][i] = A[q][i].
            PackRightRows<TF>(a, r, inFeatures, right, offset, rank, nr, permute);
        }
        else
        {
            // Left = s·Aᵀ (in × r): L[i][offset + q] = s·A[q][i].
            for (nint q = 0; q < r; q++)
            {
                nint src = q * inFeatures;
                for (nint i0 = 0; i0 < inFeatures; i0 += MR)
                {
                    float* dst = left + ((i0 / MR) * rank + offset + q) * MR;
                    nint m = Math.Min(MR, inFeatures - i0);
                    for (nint i = 0; i < m; i++)
                        dst[i] = s * TF.LoadScalar(a, src + i0 + i);
                }
            }
            // Right = Bᵀ (r × out): right[offset + q][o] = B[o][q].
            for (nint o = 0; o < outFeatures; o++)
            {
                int c = (int)(o % nr);
                float* dst = right + ((o / nr) * rank + offset) * nr + (permute ? PairStorage.Position(c, nr / 2) : c);
                nint src = o * r;
                for (nint q = 0; q < r; q++)
                    dst[q * nr] = TF.LoadScalar(b, src + q);
            }
        }
    }

    /// <summary>Packs a row-major (r × n) factor as right-hand rows offset..offset+r.</summary>
    private static void PackRightRows<TF>(void* source, nint r, nint n, float* right, nint offset, nint rank, int nr, bool permute) where TF : IStorage
    {
        for (nint q = 0; q < r; q++)
        {
            nint src = q * n;
            for (nint c0 = 0; c0 < n; c0 += nr)
            {
                float* dst = right + ((c0 / nr) * rank + offset + q) * nr;
                int count = (int)Math.Min(nr, n - c0);
                for (int c = 0; c < count; c++)
                    dst[permute ? PairStorage.Position(c, nr / 2) : c] = TF.LoadScalar(source, src + c0 + c);
            }
        }
    }

    // ---- the tiled update ---------------------------------------------------------------------

    private struct Job<TS, TV, TW> : IRangeJob where TS : ISimd<TV> where TV : unmanaged where TW : IStorage
    {
        public Args A;

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public readonly void Run(nint start, nint end)
        {
            int nr = 2 * TS.Count;
            nint rows = A.Rows, cols = A.Cols, rank = A.Rank;
            nint blockCols = Math.Max(nr, RightBlockBytes / sizeof(float) / rank / nr * nr);
            // f32 staging strip for ragged tiles: MR rows × StripColumns.
            float* strip = stackalloc float[MR * StripColumns];
            for (nint c0 = 0; c0 < cols; c0 += blockCols)
            {
                nint c1 = Math.Min(cols, c0 + blockCols);
                for (nint t = start; t < end; t++)
                {
                    nint row0 = t * MR;
                    int mr = (int)Math.Min(MR, rows - row0);
                    float* lp = A.Left + t * rank * MR;
                    void* wRow = (byte*)A.Weight + (long)row0 * cols * TW.Size;
                    nint col = c0;
                    if (TW.DType == DType.F32 && mr == MR)
                    {
                        // f32 W: the microkernel works on W itself.
                        for (; col + nr <= c1; col += nr)
                            Tile<TS, TV, TW>(wRow, col, cols, lp, A.Right + col * rank, rank);
                    }
                    else if (TW.Size == 2 && mr == MR)
                    {
                        // 16-bit W: the microkernel works on W itself, deinterleaved (bf16 widening is a
                        // shift and a mask; the f16 conversions read their constants from memory).
                        for (; col + nr <= c1; col += nr)
                            Tile16<TS, TV, TW>(wRow, col, cols, lp, A.Right + col * rank, rank);
                    }
                    // Ragged tiles: widened once into the strip, rounded once on the way back.
                    for (; col < c1; col += StripColumns)
                    {
                        int width = (int)Math.Min(StripColumns, c1 - col);
                        int padded = (width + nr - 1) / nr * nr;
                        LoadStrip(wRow, col, cols, mr, width, padded, strip);
                        for (int j = 0; j < padded; j += nr)
                            Tile<TS, TV, F32Storage>(strip, j, StripColumns, lp, A.Right + (col + j) * rank, rank);
                        StoreStrip(wRow, col, cols, mr, width, strip);
                    }
                }
            }
        }

        /// <summary>Widens rows [0, mr) × columns [col, col + width) of W into the strip; zero elsewhere up to MR × padded.</summary>
        private static void LoadStrip(void* w, nint col, nint ldw, int mr, int width, int padded, float* strip)
        {
            int nv = TS.Count;
            if (TW.Size == 2)
            {
                LoadStripDeinterleaved(w, col, ldw, mr, width, padded, strip);
                return;
            }
            int full = width / nv * nv;
            for (int m = 0; m < MR; m++)
            {
                float* dst = strip + m * StripColumns;
                int j = 0;
                if (m < mr)
                {
                    nint src = m * ldw + col;
                    if (width >= nv)
                    {
                        ManagedBlock<TS, TV>.Load<TW>(w, src, dst, full);
                        if (full != width)
                            ManagedBlock<TS, TV>.Load<TW>(w, src + width - nv, dst + width - nv, nv);
                        j = width;
                    }
                    for (; j < width; j++)
                        dst[j] = TW.LoadScalar(w, src + j);
                }
                for (; j < padded; j++)
                    dst[j] = 0f;
            }
        }

        /// <summary>Rounds rows [0, mr) × columns [0, width) of the strip back into W (the last vector may overlap: same values).</summary>
        private static void StoreStrip(void* w, nint col, nint ldw, int mr, int width, float* strip)
        {
            int nv = TS.Count;
            if (TW.Size == 2)
            {
                StoreStripDeinterleaved(w, col, ldw, mr, width, strip);
                return;
            }
            int full = width / nv * nv;
            for (int m = 0; m < mr; m++)
            {
                float* src = strip + m * StripColumns;
                nint dst = m * ldw + col;
                if (width >= nv)
                {
                    ManagedBlock<TS, TV>.Store<TW, CachedStores>(src, w, dst, full);
                    if (full != width)
                        ManagedBlock<TS, TV>.Store<TW, CachedStores>(src + width - nv, w, dst + width - nv, nv);
                }
                else
                {
                    for (int j = 0; j < width; j++)
                        TW.StoreScalar(w, dst + j, src[j]);
                }
            }
        }

        /// <summary>
        /// As <see cref="LoadStrip"/> for 16-bit W, each panel of NR columns deinterleaved (the
        /// order its right panel is packed in); a ragged last panel element by element.
        /// </summary>
        private static void LoadStripDeinterleaved(void* w, nint col, nint ldw, int mr, int width, int padded, float* strip)
        {
            int nv = TS.Count, nr = 2 * nv;
            for (int m = 0; m < MR; m++)
            {
                float* dst = strip + m * StripColumns;
                if (m >= mr)
                {
                    for (int j = 0; j < padded; j++)
                        dst[j] = 0f;
                    continue;
                }
                nint src = m * ldw + col;
                int j0 = 0;
                for (; j0 + nr <= width; j0 += nr)
                {
                    PairStorage.Load<TS, TV, TW>(w, src + j0, out TV even, out TV odd);
                    TS.StoreF32(dst + j0, even);
                    TS.StoreF32(dst + j0 + nv, odd);
                }
                for (int c = 0; j0 + c < padded; c++)
                    dst[j0 + PairStorage.Position(c, nv)] = j0 + c < width ? TW.LoadScalar(w, src + j0 + c) : 0f;
            }
        }

        /// <summary>The inverse of <see cref="LoadStripDeinterleaved"/> for rows [0, mr) × columns [0, width).</summary>
        private static void StoreStripDeinterleaved(void* w, nint col, nint ldw, int mr, int width, float* strip)
        {
            int nv = TS.Count, nr = 2 * nv;
            for (int m = 0; m < mr; m++)
            {
                float* src = strip + m * StripColumns;
                nint dst = m * ldw + col;
                int j0 = 0;
                for (; j0 + nr <= width; j0 += nr)
                    PairStorage.Store<TS, TV, TW>(w, dst + j0, TS.LoadF32(src + j0), TS.LoadF32(src + j0 + nv), false);
                for (int c = 0; j0 + c < width; c++)
                    TW.StoreScalar(w, dst + j0 + c, src[j0 + PairStorage.Position(c, nv)]);
            }
        }
    }

    /// <summary>
    /// The microkernel for 16-bit W: as <see cref="Tile{TS, TV, TW}"/> with each row's 2-vector
    /// slice of W loaded and stored deinterleaved (the right panels are packed to match).
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static void Tile16<TS, TV, TW>(void* w, nint col, nint ldw, float* lp, float* rp, nint rank)
        where TS : ISimd<TV> where TV : unmanaged where TW : IStorage
    {
        int nv = TS.Count;
        ushort* p0 = (ushort*)w + col, p1 = p0 + ldw, p2 = p1 + ldw, p3 = p2 + ldw, p4 = p3 + ldw, p5 = p4 + ldw;
        PairStorage.Load<TS, TV, TW>(p0, 0, out TV c00, out TV c01);
        PairStorage.Load<TS, TV, TW>(p1, 0, out TV c10, out TV c11);
        PairStorage.Load<TS, TV, TW>(p2, 0, out TV c20, out TV c21);
        PairStorage.Load<TS, TV, TW>(p3, 0, out TV c30, out TV c31);
        PairStorage.Load<TS, TV, TW>(p4, 0, out TV c40, out TV c41);
        PairStorage.Load<TS, TV, TW>(p5, 0, out TV c50, out TV c51);
        for (nint r = 0; r < rank; r++)
        {
            TV b0 = TS.LoadF32(rp), b1 = TS.LoadF32(rp + nv);
            TV a = TS.Broadcast(lp[0]);
            c00 = TS.Fma(a, b0, c00);
            c01 = TS.Fma(a, b1, c01);
            a = TS.Broadcast(lp[1]);
            c10 = TS.Fma(a, b0, c10);
            c11 = TS.Fma(a, b1, c11);
            a = TS.Broadcast(lp[2]);
            c20 = TS.Fma(a, b0, c20);
            c21 = TS.Fma(a, b1, c21);
            a = TS.Broadcast(lp[3]);
            c30 = TS.Fma(a, b0, c30);
            c31 = TS.Fma(a, b1, c31);
            a = TS.Broadcast(lp[4]);
            c40 = TS.Fma(a, b0, c40);
            c41 = TS.Fma(a, b1, c41);
            a = TS.Broadcast(lp[5]);
            c50 = TS.Fma(a, b0, c50);
            c51 = TS.Fma(a, b1, c51);
            rp += 2 * nv;
            lp += MR;
        }
        if (TW.DType == DType.F16)
        {
            PairStorage.Store<TS, TV, TW>(p0, 0, c00, c01, false);
            PairStorage.Store<TS, TV, TW>(p1, 0, c10, c11, false);
            PairStorage.Store<TS, TV, TW>(p2, 0, c20, c21, false);
            PairStorage.Store<TS, TV, TW>(p3, 0, c30, c31, false);
            PairStorage.Store<TS, TV, TW>(p4, 0, c40, c41, false);
            PairStorage.Store<TS, TV, TW>(p5, 0, c50, c51, false);
            return;
        }
        // bf16: one NaN test for the whole tile (Inf - Inf also lands on the general path, which
        // is correct for every value), then the cheaper rounding without NaN handling.
        TV any = TS.Add(TS.Add(TS.Add(c00, c01), TS.Add(c10, c11)), TS.Add(TS.Add(c20, c21), TS.Add(c30, c31)));
        any = TS.Add(any, TS.Add(TS.Add(c40, c41), TS.Add(c50, c51)));
        if (!TS.AnyNaN(any))
        {
            TS.StoreBF16x2NoNaN(p0, c00, c01, false);
            TS.StoreBF16x2NoNaN(p1, c10, c11, false);
            TS.StoreBF16x2NoNaN(p2, c20, c21, false);
            TS.StoreBF16x2NoNaN(p3, c30, c31, false);
            TS.StoreBF16x2NoNaN(p4, c40, c41, false);
            TS.StoreBF16x2NoNaN(p5, c50, c51, false);
            return;
        }
        TS.StoreBF16x2(p0, c00, c01, false);
        TS.StoreBF16x2(p1, c10, c11, false);
        TS.StoreBF16x2(p2, c20, c21, false);
        TS.StoreBF16x2(p3, c30, c31, false);
        TS.StoreBF16x2(p4, c40, c41, false);
        TS.StoreBF16x2(p5, c50, c51, false);
    }

    /// <summary>
    /// The microkernel: the MR × 2-vector tile of W at column <paramref name="col"/> (row stride <paramref name="ldw"/> elements) in
    /// 12 accumulators; per rank step two vector loads of the right panel, six broadcasts of the
    /// left sliver, twelve FMAs.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static void Tile<TS, TV, TW>(void* w, nint col, nint ldw, float* lp, float* rp, nint rank)
        where TS : ISimd<TV> where TV : unmanaged where TW : IStorage
    {
        int nv = TS.Count;
        TV c00 = TW.Load<TS, TV>(w, col + 0), c01 = TW.Load<TS, TV>(w, col + nv);
        TV c10 = TW.Load<TS, TV>(w, col + ldw), c11 = TW.Load<TS, TV>(w, col + ldw + nv);
        TV c20 = TW.Load<TS, TV>(w, col + 2 * ldw), c21 = TW.Load<TS, TV>(w, col + 2 * ldw + nv);
        TV c30 = TW.Load<TS, TV>(w, col + 3 * ldw), c31 = TW.Load<TS, TV>(w, col + 3 * ldw + nv);
        TV c40 = TW.Load<TS, TV>(w, col + 4 * ldw), c41 = TW.Load<TS, TV>(w, col + 4 * ldw + nv);
        TV c50 = TW.Load<TS, TV>(w, col + 5 * ldw), c51 = TW.Load<TS, TV>(w, col + 5 * ldw + nv);
        for (nint r = 0; r < rank; r++)
        {
            TV b0 = TS.LoadF32(rp), b1 = TS.LoadF32(rp + nv);
            TV a = TS.Broadcast(lp[0]);
            c00 = TS.Fma(a, b0, c00);
            c01 = TS.Fma(a, b1, c01);
            a = TS.Broadcast(lp[1]);
            c10 = TS.Fma(a, b0, c10);
            c11 = TS.Fma(a, b1, c11);
            a = TS.Broadcast(lp[2]);
            c20 = TS.Fma(a, b0, c20);
            c21 = TS.Fma(a, b1, c21);
            a = TS.Broadcast(lp[3]);
            c30 = TS.Fma(a, b0, c30);
            c31 = TS.Fma(a, b1, c31);
            a = TS.Broadcast(lp[4]);
            c40 = TS.Fma(a, b0, c40);
            c41 = TS.Fma(a, b1, c41);
            a = TS.Broadcast(lp[5]);
            c50 = TS.Fma(a, b0, c50);
            c51 = TS.Fma(a, b1, c51);
            rp += 2 * nv;
            lp += MR;
        }
        if (TW.DType == DType.BF16)
        {
            // One NaN test for the whole tile (Inf - Inf also lands on the general path, which is
            // correct for every value), then the cheaper rounding without NaN handling.
            TV any = TS.Add(TS.Add(TS.Add(c00, c01), TS.Add(c10, c11)), TS.Add(TS.Add(c20, c21), TS.Add(c30, c31)));
            any = TS.Add(any, TS.Add(TS.Add(c40, c41), TS.Add(c50, c51)));
            if (!TS.AnyNaN(any))
            {
                TW.StoreNoNaN<TS, TV>(w, col + 0, c00);
                TW.StoreNoNaN<TS, TV>(w, col + nv, c01);
                TW.StoreNoNaN<TS, TV>(w, col + ldw, c10);
                TW.StoreNoNaN<TS, TV>(w, col + ldw + nv, c11);
                TW.StoreNoNaN<TS, TV>(w, col + 2 * ldw, c20);
                TW.StoreNoNaN<TS, TV>(w, col + 2 * ldw + nv, c21);
                TW.StoreNoNaN<TS, TV>(w, col + 3 * ldw, c30);
                TW.StoreNoNaN<TS, TV>(w, col + 3 * ldw + nv, c31);
                TW.StoreNoNaN<TS, TV>(w, col + 4 * ldw, c40);
                TW.StoreNoNaN<TS, TV>(w, col + 4 * ldw + nv, c41);
                TW.StoreNoNaN<TS, TV>(w, col + 5 * ldw, c50);
                TW.StoreNoNaN<TS, TV>(w, col + 5 * ldw + nv, c51);
                return;
            }
        }
        TW.Store<TS, TV>(w, col + 0, c00);
        TW.Store<TS, TV>(w, col + nv, c01);
        TW.Store<TS, TV>(w, col + ldw, c10);
        TW.Store<TS, TV>(w, col + ldw + nv, c11);
        TW.Store<TS, TV>(w, col + 2 * ldw, c20);
        TW.Store<TS, TV>(w, col + 2 * ldw + nv, c21);
        TW.Store<TS, TV>(w, col + 3 * ldw, c30);
        TW.Store<TS, TV>(w, col + 3 * ldw + nv, c31);
        TW.Store<TS, TV>(w, col + 4 * ldw, c40);
        TW.Store<TS, TV>(w, col + 4 * ldw + nv, c41);
        TW.Store<TS, TV>(w, col + 5 * ldw, c50);
        TW.Store<TS, TV>(w, col + 5 * ldw + nv, c51);
    }
}
