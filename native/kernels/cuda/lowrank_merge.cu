/* lowrank_merge.cu — W += sum_k s_k B_k @ A_k in place, one pass over W (fan_in_fan_out: W is
 * stored in x out and gets the transpose): kernels -> launcher -> exported entry.
 *
 * One block owns a TM x TN tile of W as stored (rows x cols) and computes its whole update
 * D = sum_k s_k L_k R_k before touching W, so W is read once and written once (rounded once):
 *   plain:           W rows = out features, L = B (TM x r block), R = A (r x TN block)
 *   fan_in_fan_out:  W rows = in features,  L = A^T,               R = B^T
 * The rank runs in chunks whose L and R tiles sit in shared memory (each factor is tiny and
 * stays in L2; every block re-reads only the rows and columns of its tile). The finished D goes
 * through a shared f32 staging tile so that W is read and written by rows with 16-byte vectors.
 *
 * Two products:
 *  - mma: every factor bf16 (or every factor f16): wmma 16x16x16 on the tensor cores with f32
 *    accumulation. bf16 x bf16 (f16 x f16) products are exact in f32, so this is the same
 *    function as the f32 path; it keeps r = 64 memory-bound (8192^2 x 64 x 2 flops per merge
 *    would be compute-bound on the f32 cores of an H100).
 *  - fma: any mix of dtypes: factors converted to f32 in shared memory (scale folded into L,
 *    as the CPU code does), an 8 x 8 register block of f32 FMAs per thread. */
#include <mma.h>
#include <type_traits>
#include <cuda_bf16.h>

#include "pnc_internal.cuh"

using namespace nvcuda;

#define TM 64          /* tile rows (W as stored) */
#define TN 128         /* tile cols */
#define THREADS 128    /* 4 warps: 2 x 2, each 32 x 64 of the tile (mma) */
#define RK_MMA 64      /* rank chunk of the mma path (r <= 64 is one chunk) */
#define RK_FMA 32      /* rank chunk of the fma path */
#define LDS (TN + 4)   /* staging row stride in floats (float4-aligned, skews banks) */
#define PAD 8          /* 16-bit smem row padding: keeps 16-byte rows and 32-byte fragment pointers */

struct merge_factors {
    const void* b[PN_CUDA_MAX_FACTORS];
    const void* a[PN_CUDA_MAX_FACTORS];
    int32_t rank[PN_CUDA_MAX_FACTORS];
    int32_t dtype[PN_CUDA_MAX_FACTORS];
    float scale[PN_CUDA_MAX_FACTORS];
    int32_t count;
};

struct merge_shape {
    int64_t out_features, in_features;
    int64_t w_rows, w_cols;  /* W as stored */
    bool w_vec;              /* W rows allow 16-byte vectors */
};

/* Bytes of shared memory: the staging tile, which the rank tiles of both paths alias. */
#define SMEM_BYTES (TM * LDS * 4)
static_assert(TM * (RK_MMA + PAD) * 2 + RK_MMA * (TN + PAD) * 2 <= SMEM_BYTES, "mma tiles (plain) fit");
static_assert(RK_MMA * (TM + PAD) * 2 + TN * (RK_MMA + PAD) * 2 <= SMEM_BYTES, "mma tiles (transposed) fit");
static_assert(RK_FMA * TM * 4 + RK_FMA * TN * 4 <= SMEM_BYTES, "fma tiles fit");

/* ---- shared pieces ------------------------------------------------------------------------- */

/* Copies the nr x nc block at (r0, c0) of a row-major 16-bit matrix (rows x cols) into shared
 * memory with row stride ld, zero outside the matrix. nc is a multiple of 8. */
__device__ __forceinline__ void load_block16(uint16_t* dst, int ld, const uint16_t* src, int64_t rows,
                                             int64_t cols, int64_t r0, int64_t c0, int nr, int nc, bool vec)
{
    const int chunks = nr * (nc / 8);
    for (int c = threadIdx.x; c < chunks; c += THREADS) {
        const int r = c / (nc / 8), cc = (c % (nc / 8)) * 8;
        const int64_t gr = r0 + r, gc = c0 + cc;
        uint16_t* d = dst + r * ld + cc;
        if (vec && gr < rows && gc + 8 <= cols) {
            *(uint4*)d = *(const uint4*)(src + gr * cols + gc);
        } else {
#pragma unroll
            for (int t = 0; t < 8; t++) d[t] = gr < rows && gc + t < cols ? src[gr * cols + gc + t] : (uint16_t)0;
        }
    }
}

/* Converts the nr x nc block at (r0, c0) of a row-major matrix of runtime dtype into f32 shared
 * memory times `mul`, stored as dst[r][c] (or dst[c][r] when transposed), zero outside. */
__device__ __forceinline__ void load_block_f32(float* dst, int ld, const void* src, int32_t dt, int64_t rows,
                                               int64_t cols, int64_t r0, int64_t c0, int nr, int nc,
                                               bool transposed, float mul)
{
    for (int e = threadIdx.x; e < nr * nc; e += THREADS) {
        const int r = e / nc, c = e % nc;
        const int64_t gr = r0 + r, gc = c0 + c;
        const float v = gr < rows && gc < cols ? pnc_load_any(dt, src, gr * cols + gc) * mul : 0.0f;
        dst[transposed ? c * ld + r : r * ld + c] = v;
    }
}

/* Tile row and first column of this thread's u-th 8-element chunk of the W tile. */
__device__ __forceinline__ void staging_chunk(int u, int* r, int* cc)
{
    const int c = threadIdx.x + u * THREADS;
    *r = c / (TN / 8);
    *cc = (c % (TN / 8)) * 8;
}

/* W tile += staging, by rows: thread t handles 8-element chunks t, t + THREADS, ...; all W loads
 * of a thread are issued before its stores (bytes in flight hide the memory latency). */
template <int WD>
__device__ __forceinline__ void add_staging_to_w(void* w, const merge_shape& sh, int64_t row0, int64_t col0,
                                                 const float* stage)
{
    constexpr int CHUNKS = TM * TN / 8 / THREADS;
    float v[CHUNKS][8];
#pragma unroll
    for (int u = 0; u < CHUNKS; u++) {
        int r, cc;
        staging_chunk(u, &r, &cc);
        const int64_t gr = row0 + r, gc = col0 + cc;
        if (gr >= sh.w_rows) continue;
        if (sh.w_vec && gc + 8 <= sh.w_cols) {
            pnc_load8<WD>(w, gr * sh.w_cols + gc, v[u]);
        } else {
#pragma unroll
            for (int t = 0; t < 8; t++) v[u][t] = gc + t < sh.w_cols ? pnc_load<WD>(w, gr * sh.w_cols + gc + t) : 0.0f;
        }
    }
#pragma unroll
    for (int u = 0; u < CHUNKS; u++) {
        int r, cc;
        staging_chunk(u, &r, &cc);
        const int64_t gr = row0 + r, gc = col0 + cc;
        if (gr >= sh.w_rows) continue;
        const float4 d0 = *(const float4*)(stage + r * LDS + cc), d1 = *(const float4*)(stage + r * LDS + cc + 4);
        const float d[8] = {d0.x, d0.y, d0.z, d0.w, d1.x, d1.y, d1.z, d1.w};
#pragma unroll
        for (int t = 0; t < 8; t++) v[u][t] += d[t];
        if (sh.w_vec && gc + 8 <= sh.w_cols) {
            pnc_store8<WD>(w, gr * sh.w_cols + gc, v[u]);
        } else {
#pragma unroll
            for (int t = 0; t < 8; t++)
                if (gc + t < sh.w_cols) pnc_store<WD>(w, gr * sh.w_cols + gc + t, v[u][t]);
        }
    }
}

/* ---- tensor-core path ---------------------------------------------------------------------- */

template <typename T> struct mma_type;
template <> struct mma_type<__nv_bfloat16> { static constexpr int dtype = PN_DTYPE_BF16; };
template <> struct mma_type<__half> { static constexpr int dtype = PN_DTYPE_F16; };

/* MULTI: more than one factor, so each factor's product is scaled into the total separately. */
template <int WD, typename T, bool TRANS, bool MULTI>
__global__ void __launch_bounds__(THREADS)
merge_mma_kernel(void* w, const merge_shape sh, const merge_factors f, bool factors_vec)
{
    __shared__ __align__(128) unsigned char smem[SMEM_BYTES];
    T* sl = (T*)smem;
    constexpr int LDL = TRANS ? TM + PAD : RK_MMA + PAD;
    constexpr int LDR = TRANS ? RK_MMA + PAD : TN + PAD;
    T* sr = sl + (TRANS ? RK_MMA * LDL : TM * LDL);
    using LayoutA = typename std::conditional<TRANS, wmma::col_major, wmma::row_major>::type;
    using LayoutB = typename std::conditional<TRANS, wmma::col_major, wmma::row_major>::type;

    const int64_t row0 = (int64_t)blockIdx.y * TM, col0 = (int64_t)blockIdx.x * TN;
    const int warp = threadIdx.x / 32, wr = warp / 2, wc = warp % 2;

    wmma::fragment<wmma::accumulator, 16, 16, 16, float> acc[2][4], part[MULTI ? 2 : 1][MULTI ? 4 : 1];
#pragma unroll
    for (int i = 0; i < 2; i++)
#pragma unroll
        for (int j = 0; j < 4; j++) wmma::fill_fragment(acc[i][j], 0.0f);

    for (int k = 0; k < f.count; k++) {
        const int64_t rank = f.rank[k];
        const uint16_t* b = (const uint16_t*)f.b[k];
        const uint16_t* a = (const uint16_t*)f.a[k];
        if (MULTI) {
#pragma unroll
            for (int i = 0; i < 2; i++)
#pragma unroll
                for (int j = 0; j < 4; j++) wmma::fill_fragment(part[MULTI ? i : 0][MULTI ? j : 0], 0.0f);
        }
        for (int64_t q0 = 0; q0 < rank; q0 += RK_MMA) {
            /* 16-wide k steps this chunk needs; only those rank rows/columns are staged (r = 16
             * loads a quarter of the tile), zero-padded up to the step. */
            const int steps = (int)((rank - q0 + 15) / 16 < RK_MMA / 16 ? (rank - q0 + 15) / 16 : RK_MMA / 16);
            const int kpad = steps * 16;
            __syncthreads(); /* the previous chunk's fragments are loaded */
            if (!TRANS) {
                load_block16((uint16_t*)sl, LDL, b, sh.out_features, rank, row0, q0, TM, kpad, factors_vec);
                load_block16((uint16_t*)sr, LDR, a, rank, sh.in_features, q0, col0, kpad, TN, factors_vec);
            } else {
                load_block16((uint16_t*)sl, LDL, a, rank, sh.in_features, q0, row0, kpad, TM, factors_vec);
                load_block16((uint16_t*)sr, LDR, b, sh.out_features, rank, col0, q0, TN, kpad, factors_vec);
            }
            __syncthreads();
            for (int kk = 0; kk < steps; kk++) {
                wmma::fragment<wmma::matrix_a, 16, 16, 16, T, LayoutA> fa[2];
                wmma::fragment<wmma::matrix_b, 16, 16, 16, T, LayoutB> fb[4];
#pragma unroll
                for (int i = 0; i < 2; i++) {
                    const int m = wr * 32 + i * 16;
                    wmma::load_matrix_sync(fa[i], TRANS ? sl + kk * 16 * LDL + m : sl + m * LDL + kk * 16, LDL);
                }
#pragma unroll
                for (int j = 0; j < 4; j++) {
                    const int n = wc * 64 + j * 16;
                    wmma::load_matrix_sync(fb[j], TRANS ? sr + n * LDR + kk * 16 : sr + kk * 16 * LDR + n, LDR);
                }
#pragma unroll
                for (int i = 0; i < 2; i++)
#pragma unroll
                    for (int j = 0; j < 4; j++) {
                        if (MULTI) wmma::mma_sync(part[MULTI ? i : 0][MULTI ? j : 0], fa[i], fb[j], part[MULTI ? i : 0][MULTI ? j : 0]);
                        else wmma::mma_sync(acc[i][j], fa[i], fb[j], acc[i][j]);
                    }
            }
        }
        const float s = f.scale[k];
#pragma unroll
        for (int i = 0; i < 2; i++)
#pragma unroll
            for (int j = 0; j < 4; j++)
#pragma unroll
                for (int e = 0; e < acc[i][j].num_elements; e++) {
                    if (MULTI) acc[i][j].x[e] = __fmaf_rn(s, part[MULTI ? i : 0][MULTI ? j : 0].x[e], acc[i][j].x[e]);
                    else acc[i][j].x[e] *= s; /* one factor: its scale once, at the end */
                }
    }

    __syncthreads(); /* staging aliases the rank tiles */
    float* stage = (float*)smem;
#pragma unroll
    for (int i = 0; i < 2; i++)
#pragma unroll
        for (int j = 0; j < 4; j++)
            wmma::store_matrix_sync(stage + (wr * 32 + i * 16) * LDS + wc * 64 + j * 16, acc[i][j], LDS, wmma::mem_row_major);
    __syncthreads();
    add_staging_to_w<WD>(w, sh, row0, col0, stage);
}

/* ---- f32 FMA path -------------------------------------------------------------------------- */

template <int WD, bool TRANS>
__global__ void __launch_bounds__(THREADS)
merge_fma_kernel(void* w, const merge_shape sh, const merge_factors f)
{
    __shared__ __align__(128) unsigned char smem[SMEM_BYTES];
    float* sl = (float*)smem;       /* [RK_FMA][TM]: L transposed, scale folded in */
    float* sr = sl + RK_FMA * TM;   /* [RK_FMA][TN] */
    const int64_t row0 = (int64_t)blockIdx.y * TM, col0 = (int64_t)blockIdx.x * TN;
    const int tx = threadIdx.x % 16, ty = threadIdx.x / 16; /* rows ty + 8m, cols tx*8 + n */

    float acc[8][8];
#pragma unroll
    for (int m = 0; m < 8; m++)
#pragma unroll
        for (int n = 0; n < 8; n++) acc[m][n] = 0.0f;

    for (int k = 0; k < f.count; k++) {
        const int64_t rank = f.rank[k];
        for (int64_t q0 = 0; q0 < rank; q0 += RK_FMA) {
            __syncthreads();
            if (!TRANS) {
                load_block_f32(sl, TM, f.b[k], f.dtype[k], sh.out_features, rank, row0, q0, TM, RK_FMA, true, f.scale[k]);
                load_block_f32(sr, TN, f.a[k], f.dtype[k], rank, sh.in_features, q0, col0, RK_FMA, TN, false, 1.0f);
            } else {
                load_block_f32(sl, TM, f.a[k], f.dtype[k], rank, sh.in_features, q0, row0, RK_FMA, TM, false, f.scale[k]);
                load_block_f32(sr, TN, f.b[k], f.dtype[k], sh.out_features, rank, col0, q0, TN, RK_FMA, true, 1.0f);
            }
            __syncthreads();
            const int steps = rank - q0 < RK_FMA ? (int)(rank - q0) : RK_FMA;
            for (int q = 0; q < steps; q++) {
                float l[8], r[8];
#pragma unroll
                for (int m = 0; m < 8; m++) l[m] = sl[q * TM + ty + 8 * m];
                const float4 r0 = *(const float4*)(sr + q * TN + tx * 8), r1 = *(const float4*)(sr + q * TN + tx * 8 + 4);
                r[0] = r0.x; r[1] = r0.y; r[2] = r0.z; r[3] = r0.w;
                r[4] = r1.x; r[5] = r1.y; r[6] = r1.z; r[7] = r1.w;
#pragma unroll
                for (int m = 0; m < 8; m++)
#pragma unroll
                    for (int n = 0; n < 8; n++) acc[m][n] = __fmaf_rn(l[m], r[n], acc[m][n]);
            }
        }
    }

    __syncthreads();
    float* stage = (float*)smem;
#pragma unroll
    for (int m = 0; m < 8; m++) {
        float* s = stage + (ty + 8 * m) * LDS + tx * 8;
        *(float4*)s = make_float4(acc[m][0], acc[m][1], acc[m][2], acc[m][3]);
        *(float4*)(s + 4) = make_float4(acc[m][4], acc[m][5], acc[m][6], acc[m][7]);
    }
    __syncthreads();
    add_staging_to_w<WD>(w, sh, row0, col0, stage);
}

/* ---- launcher, entry ----------------------------------------------------------------------- */

template <int WD, typename T, bool TRANS>
static void launch_mma(dim3 grid, cudaStream_t stream, void* w, const merge_shape& sh, const merge_factors& f,
                       bool factors_vec)
{
    if (f.count == 1) merge_mma_kernel<WD, T, TRANS, false><<<grid, THREADS, 0, stream>>>(w, sh, f, factors_vec);
    else merge_mma_kernel<WD, T, TRANS, true><<<grid, THREADS, 0, stream>>>(w, sh, f, factors_vec);
}

template <int WD>
static pn_status launch_merge(void* w, const merge_shape& sh, bool transpose, const merge_factors& f,
                              int32_t common_16bit_dtype, bool factors_vec, cudaStream_t stream)
{
    const dim3 grid((unsigned)((sh.w_cols + TN - 1) / TN), (unsigned)((sh.w_rows + TM - 1) / TM));
    if (common_16bit_dtype == PN_DTYPE_BF16) {
        if (transpose) launch_mma<WD, __nv_bfloat16, true>(grid, stream, w, sh, f, factors_vec);
        else launch_mma<WD, __nv_bfloat16, false>(grid, stream, w, sh, f, factors_vec);
    } else if (common_16bit_dtype == PN_DTYPE_F16) {
        if (transpose) launch_mma<WD, __half, true>(grid, stream, w, sh, f, factors_vec);
        else launch_mma<WD, __half, false>(grid, stream, w, sh, f, factors_vec);
    } else if (transpose) {
        merge_fma_kernel<WD, true><<<grid, THREADS, 0, stream>>>(w, sh, f);
    } else {
        merge_fma_kernel<WD, false><<<grid, THREADS, 0, stream>>>(w, sh, f);
    }
    PNC_CHECK_LAUNCH("lowrank merge kernel");
    return PN_OK;
}

static pn_status merge_checked(int32_t w_dtype, void* w, int64_t out_features, int64_t in_features,
                               int32_t transpose, int32_t count, const pn_lowrank_factor* factors,
                               cudaStream_t stream)
{
    const char* fn = "pn_cuda_lowrank_merge";
    if (!pnc_valid_dtype(w_dtype)) return pnc_fail(PN_ERR_INVALID_ARGUMENT, "%s: unknown w_dtype %d", fn, (int)w_dtype);
    if (out_features < 0) return pnc_fail(PN_ERR_INVALID_ARGUMENT, "%s: out_features is negative (%lld)", fn, (long long)out_features);
    if (in_features < 0) return pnc_fail(PN_ERR_INVALID_ARGUMENT, "%s: in_features is negative (%lld)", fn, (long long)in_features);
    if (transpose != 0 && transpose != 1)
        return pnc_fail(PN_ERR_INVALID_ARGUMENT, "%s: transpose must be 0 or 1 (got %d)", fn, (int)transpose);
    if (count < 0) return pnc_fail(PN_ERR_INVALID_ARGUMENT, "%s: count is negative (%d)", fn, (int)count);
    if (count > PN_CUDA_MAX_FACTORS)
        return pnc_fail(PN_ERR_INVALID_ARGUMENT, "%s: count %d exceeds PN_CUDA_MAX_FACTORS (%d)", fn, (int)count, PN_CUDA_MAX_FACTORS);
    if (count > 0 && !factors) return pnc_fail(PN_ERR_INVALID_ARGUMENT, "%s: factors is null", fn);
    const int64_t wb = pnc_bytes_of(out_features, in_features, w_dtype);
    if (wb < 0) return pnc_fail(PN_ERR_INVALID_ARGUMENT, "%s: W is too large", fn);
    if (wb > 0 && !w) return pnc_fail(PN_ERR_INVALID_ARGUMENT, "%s: w is null", fn);

    merge_factors f = {};
    f.count = count;
    int32_t common = count > 0 ? factors[0].dtype : -1;
    bool factors_vec = true;
    for (int32_t k = 0; k < count; k++) {
        const pn_lowrank_factor* x = &factors[k];
        if (!pnc_valid_dtype(x->dtype)) return pnc_fail(PN_ERR_INVALID_ARGUMENT, "%s: factor %d has unknown dtype %d", fn, (int)k, (int)x->dtype);
        if (x->rank < 1) return pnc_fail(PN_ERR_INVALID_ARGUMENT, "%s: factor %d has rank %d (must be >= 1)", fn, (int)k, (int)x->rank);
        if (x->reserved != 0) return pnc_fail(PN_ERR_INVALID_ARGUMENT, "%s: factor %d: reserved must be 0", fn, (int)k);
        if (!(x->scale - x->scale == 0.0f)) return pnc_fail(PN_ERR_INVALID_ARGUMENT, "%s: factor %d has a non-finite scale", fn, (int)k);
        const int64_t bb = pnc_bytes_of(out_features, x->rank, x->dtype), ab = pnc_bytes_of(x->rank, in_features, x->dtype);
        if (bb < 0 || ab < 0) return pnc_fail(PN_ERR_INVALID_ARGUMENT, "%s: factor %d is too large", fn, (int)k);
        if ((bb > 0 && !x->b) || (ab > 0 && !x->a)) return pnc_fail(PN_ERR_INVALID_ARGUMENT, "%s: factor %d has a null a or b", fn, (int)k);
        if (pnc_overlaps(w, wb, x->b, bb) || pnc_overlaps(w, wb, x->a, ab))
            return pnc_fail(PN_ERR_INVALID_ARGUMENT, "%s: W overlaps factor %d", fn, (int)k);
        if (x->dtype != common) common = -1;
        /* 16-byte factor rows: both matrices aligned and both row lengths a multiple of 8. */
        factors_vec = factors_vec && ((uintptr_t)x->a % 16u) == 0 && ((uintptr_t)x->b % 16u) == 0
                      && x->rank % 8 == 0 && in_features % 8 == 0;
        f.b[k] = x->b;
        f.a[k] = x->a;
        f.rank[k] = x->rank;
        f.dtype[k] = x->dtype;
        f.scale[k] = x->scale;
    }
    if (count == 0 || wb == 0) return PN_OK;

    merge_shape sh;
    sh.out_features = out_features;
    sh.in_features = in_features;
    sh.w_rows = transpose ? in_features : out_features;
    sh.w_cols = transpose ? out_features : in_features;
    sh.w_vec = pnc_vec_ok(w, sh.w_cols, w_dtype);
    if ((sh.w_rows + TM - 1) / TM > 65535)
        return pnc_fail(PN_ERR_INVALID_ARGUMENT, "%s: W has %lld rows, beyond the grid limit of %lld", fn,
                        (long long)sh.w_rows, 65535LL * TM);
    if (common == PN_DTYPE_F32) common = -1;
    pn_status st = PN_OK;
    PNC_DISPATCH_DTYPE(w_dtype, WD, st = launch_merge<WD>(w, sh, transpose != 0, f, common, factors_vec, stream))
    return st;
}

extern "C" PN_API pn_status pn_cuda_lowrank_merge(int32_t w_dtype, void* w, int64_t out_features,
                                                  int64_t in_features, int32_t transpose, int32_t count,
                                                  const pn_lowrank_factor* factors, pn_cuda_stream stream)
{
    PNC_GUARD_BEGIN
    return merge_checked(w_dtype, w, out_features, in_features, transpose, count, factors, (cudaStream_t)stream);
    PNC_GUARD_END("pn_cuda_lowrank_merge")
}
