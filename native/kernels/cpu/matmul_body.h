/* matmul_body.h — the kernels of pn_cpu_matmul, instantiated once per ISA after one
 * pn_vec_<isa>.h (and, optionally, an ISA-specific in-register transpose, MM_TRANSPOSE).
 *
 * GEMM (m >= 3), per chunk of nc columns of y, for each k block of kc:
 *   1. pack B = the chunk's columns of W^T (or of W, input-major) into column panels of
 *      NR = PN_NV * VLEN, k-major ([kc][NR] f32, zero-padded past n), converting f16/bf16 to f32
 *      on the way: W is read and converted once per call, and each packed value then serves all
 *      m rows;
 *   2. for each row panel of PN_MR rows of x, for each column panel: the register-blocked
 *      microkernel accumulates the MR x NR tile in PN_MR * PN_NV vector registers from zero
 *      (broadcast x, FMA with the panel), and adds it to y (or stores it, for the first k block
 *      without `accumulate`). The x rows are read in place: an MR x kc slice stays in L1 while it
 *      sweeps the packed block, which sits in L2.
 * Per element of y the arithmetic order depends on kc only, never on nc or the thread count.
 *
 * GEMV (m <= 2, decode): W is read in place, converted in registers, no packing:
 *   W (n x k): 4 rows of W at a time against x, two accumulators each, lanes summed at the end;
 *   W (k x n): a block of 8 vectors of y columns accumulated over the k rows of W. */
#include "matmul_internal.h"
#include "pn_vec_common.h"

#define MM_NR (PN_NV * VLEN)
#define MM_GV 8 /* vectors of y columns per GEMV block (input-major W) */

/* ---- packing ------------------------------------------------------------------------------ */

/* Bp[p][c] = B[pc + p][j0 + c] for p < kcb, c < NR (0 past n): one column panel. */
PN_ALWAYS_INLINE void mm_pack_panel(const pn_matmul_ctx* c, int32_t WD, int64_t pc, int64_t kcb,
                                    int64_t j0, float* restrict dst)
{
    const int64_t n = c->n, k = c->k;
    const int64_t nr = n - j0 < MM_NR ? n - j0 : MM_NR;
    if (c->w_input_major) {
        /* W (k x n): a row slice of W is a row of the panel. */
        for (int64_t p = 0; p < kcb; p++) {
            const int64_t src = (pc + p) * n + j0;
            float* d = dst + p * MM_NR;
            if (nr == MM_NR) {
#pragma GCC unroll 8
                for (int v = 0; v < PN_NV; v++) vstore_f32(d + v * VLEN, vload_dt(WD, c->w, src + v * VLEN));
            } else {
                for (int v = 0; v < PN_NV; v++) {
                    const int64_t t = nr - v * VLEN;
                    VF x = t >= VLEN ? vload_dt(WD, c->w, src + v * VLEN)
                           : t > 0   ? vload_part(WD, c->w, src + v * VLEN, t)
                                     : vzero();
                    vstore_f32(d + v * VLEN, x);
                }
            }
        }
        return;
    }
    /* W (n x k): column c of the panel is row j0 + c of W; transpose. */
    int64_t p0 = 0;
#if defined(MM_TRANSPOSE)
    if (nr == MM_NR) {
        for (; p0 + VLEN <= kcb; p0 += VLEN) {
#pragma GCC unroll 8
            for (int g = 0; g < PN_NV; g++) {
                VF r[VLEN];
#pragma GCC unroll 16
                for (int q = 0; q < VLEN; q++)
                    r[q] = vload_dt(WD, c->w, (j0 + g * VLEN + q) * k + pc + p0);
                MM_TRANSPOSE(r);
#pragma GCC unroll 16
                for (int q = 0; q < VLEN; q++) vstore_f32(dst + (p0 + q) * MM_NR + g * VLEN, r[q]);
            }
        }
    }
#endif
    for (int64_t col = 0; col < MM_NR; col++) {
        const int64_t src = (j0 + col) * k + pc;
        if (col < nr)
            for (int64_t p = p0; p < kcb; p++) dst[p * MM_NR + col] = pn_load_scalar(WD, c->w, src + p);
        else
            for (int64_t p = p0; p < kcb; p++) dst[p * MM_NR + col] = 0.0f;
    }
}

/* ---- the microkernel ---------------------------------------------------------------------- */

/* y tile (mr x nr at yt, row stride ldy) [+]= x rows (xr[i], k values from offset 0) . Bp panel.
 * Rows past mr repeat the last valid row (results discarded); columns past nr read padding. */
PN_ALWAYS_INLINE void mm_tile(const float* const* xr, const float* restrict bp, int64_t kcb,
                              float* yt, int64_t ldy, int64_t mr, int64_t nr, int add)
{
    VF acc[PN_MR][PN_NV];
#pragma GCC unroll 16
    for (int i = 0; i < PN_MR; i++)
#pragma GCC unroll 8
        for (int v = 0; v < PN_NV; v++) acc[i][v] = vzero();
    const float* x[PN_MR];
#pragma GCC unroll 16
    for (int i = 0; i < PN_MR; i++) x[i] = xr[i];
    for (int64_t p = 0; p < kcb; p++) {
        VF b[PN_NV];
#pragma GCC unroll 8
        for (int v = 0; v < PN_NV; v++) b[v] = vload_f32a(bp + p * MM_NR + v * VLEN);
#pragma GCC unroll 16
        for (int i = 0; i < PN_MR; i++) {
            const VF a = vset1(x[i][p]);
#pragma GCC unroll 8
            for (int v = 0; v < PN_NV; v++) acc[i][v] = vfma(a, b[v], acc[i][v]);
        }
    }
    if (mr == PN_MR && nr == MM_NR) {
#pragma GCC unroll 16
        for (int i = 0; i < PN_MR; i++)
#pragma GCC unroll 8
            for (int v = 0; v < PN_NV; v++) {
                float* d = yt + i * ldy + v * VLEN;
                vstore_f32(d, add ? vadd(vload_f32(d), acc[i][v]) : acc[i][v]);
            }
        return;
    }
    _Alignas(64) float tmp[PN_MR * MM_NR];
    for (int i = 0; i < PN_MR; i++)
        for (int v = 0; v < PN_NV; v++) vstore_f32(tmp + i * MM_NR + v * VLEN, acc[i][v]);
    for (int64_t i = 0; i < mr; i++)
        for (int64_t j = 0; j < nr; j++) {
            float* d = yt + i * ldy + j;
            *d = add ? *d + tmp[i * MM_NR + j] : tmp[i * MM_NR + j];
        }
}

PN_ALWAYS_INLINE void mm_gemm_chunk(const pn_matmul_ctx* c, int32_t WD, int64_t chunk, float* bp)
{
    const int64_t m = c->m, n = c->n, k = c->k;
    const int64_t j_begin = chunk * c->nc;
    const int64_t j_end = j_begin + c->nc < n ? j_begin + c->nc : n;
    const int64_t panels = (j_end - j_begin + MM_NR - 1) / MM_NR;
    for (int64_t pc = 0; pc < k; pc += c->kc) {
        const int64_t kcb = k - pc < c->kc ? k - pc : c->kc;
        for (int64_t q = 0; q < panels; q++)
            mm_pack_panel(c, WD, pc, kcb, j_begin + q * MM_NR, bp + q * kcb * MM_NR);
        const int add = c->accumulate || pc > 0;
        for (int64_t i0 = 0; i0 < m; i0 += PN_MR) {
            const int64_t mr = m - i0 < PN_MR ? m - i0 : PN_MR;
            const float* xr[PN_MR];
            for (int i = 0; i < PN_MR; i++) xr[i] = c->x + (i0 + (i < mr ? i : mr - 1)) * k + pc;
            for (int64_t q = 0; q < panels; q++) {
                const int64_t j0 = j_begin + q * MM_NR;
                const int64_t nr = j_end - j0 < MM_NR ? j_end - j0 : MM_NR;
                mm_tile(xr, bp + q * kcb * MM_NR, kcb, c->y + i0 * n + j0, n, mr, nr, add);
            }
        }
    }
}

/* ---- GEMV (decode) ------------------------------------------------------------------------ */

PN_ALWAYS_INLINE float mm_hsum(VF v)
{
    _Alignas(64) float t[VLEN];
    vstore_f32(t, v);
    float s = 0.0f;
    for (int i = 0; i < VLEN; i++) s += t[i];
    return s;
}

/* y[j] [+]= dot(x, W[j][:]) for W (n x k), j in [j0, j1). */
PN_ALWAYS_INLINE void mm_gemv_rows(const pn_matmul_ctx* c, int32_t WD, const float* x, float* y,
                                   int64_t j0, int64_t j1)
{
    const int64_t k = c->k;
    const int64_t kv2 = k / (2 * VLEN) * (2 * VLEN), kv = k / VLEN * VLEN;
    int64_t j = j0;
    for (; j + 4 <= j1; j += 4) {
        VF a0[4], a1[4];
#pragma GCC unroll 4
        for (int r = 0; r < 4; r++) a0[r] = a1[r] = vzero();
        int64_t p = 0;
        for (; p < kv2; p += 2 * VLEN) {
            const VF x0 = vload_f32(x + p), x1 = vload_f32(x + p + VLEN);
#pragma GCC unroll 4
            for (int r = 0; r < 4; r++) {
                a0[r] = vfma(x0, vload_dt(WD, c->w, (j + r) * k + p), a0[r]);
                a1[r] = vfma(x1, vload_dt(WD, c->w, (j + r) * k + p + VLEN), a1[r]);
            }
        }
        for (; p < kv; p += VLEN) {
            const VF x0 = vload_f32(x + p);
#pragma GCC unroll 4
            for (int r = 0; r < 4; r++) a0[r] = vfma(x0, vload_dt(WD, c->w, (j + r) * k + p), a0[r]);
        }
        if (p < k) {
            const VF x0 = vload_part(PN_DTYPE_F32, x, p, k - p);
            for (int r = 0; r < 4; r++)
                a1[r] = vfma(x0, vload_part(WD, c->w, (j + r) * k + p, k - p), a1[r]);
        }
        for (int r = 0; r < 4; r++) {
            const float s = mm_hsum(vadd(a0[r], a1[r]));
            y[j + r] = c->accumulate ? y[j + r] + s : s;
        }
    }
    for (; j < j1; j++) {
        VF a0 = vzero(), a1 = vzero();
        int64_t p = 0;
        for (; p < kv; p += VLEN) a0 = vfma(vload_f32(x + p), vload_dt(WD, c->w, j * k + p), a0);
        if (p < k)
            a1 = vfma(vload_part(PN_DTYPE_F32, x, p, k - p), vload_part(WD, c->w, j * k + p, k - p), a1);
        const float s = mm_hsum(vadd(a0, a1));
        y[j] = c->accumulate ? y[j] + s : s;
    }
}

/* y[j] [+]= sum_p x[p] W[p][j] for W (k x n), j in [j0, j1). */
PN_ALWAYS_INLINE void mm_gemv_cols(const pn_matmul_ctx* c, int32_t WD, const float* x, float* y,
                                   int64_t j0, int64_t j1)
{
    const int64_t k = c->k, n = c->n;
    const size_t es = pn_dtype_size(WD);
    int64_t j = j0;
    for (; j + MM_GV * VLEN <= j1; j += MM_GV * VLEN) {
        VF acc[MM_GV];
#pragma GCC unroll 8
        for (int v = 0; v < MM_GV; v++) acc[v] = vzero();
        for (int64_t p = 0; p < k; p++) {
            /* the rows of W are n apart: fetch a few rows ahead of the FMAs */
            if (p + 8 < k) {
                const unsigned char* ahead = (const unsigned char*)c->w + (size_t)((p + 8) * n + j) * es;
                vprefetch(ahead);
                vprefetch(ahead + (size_t)(MM_GV * VLEN) * es - 1);
            }
            const VF xp = vset1(x[p]);
#pragma GCC unroll 8
            for (int v = 0; v < MM_GV; v++) acc[v] = vfma(xp, vload_dt(WD, c->w, p * n + j + v * VLEN), acc[v]);
        }
#pragma GCC unroll 8
        for (int v = 0; v < MM_GV; v++)
            vstore_f32(y + j + v * VLEN, c->accumulate ? vadd(vload_f32(y + j + v * VLEN), acc[v]) : acc[v]);
    }
    for (; j < j1; j += VLEN) {
        const int64_t t = j1 - j < VLEN ? j1 - j : VLEN;
        VF acc = vzero();
        for (int64_t p = 0; p < k; p++) {
            const VF w = t == VLEN ? vload_dt(WD, c->w, p * n + j) : vload_part(WD, c->w, p * n + j, t);
            acc = vfma(vset1(x[p]), w, acc);
        }
        if (c->accumulate) acc = vadd(vload_part(PN_DTYPE_F32, y, j, t), acc);
        vstore_part(PN_DTYPE_F32, y, j, t, acc);
    }
}

/* ---- entries ------------------------------------------------------------------------------ */

static void PN_SFX(mm_gemm_chunk)(const pn_matmul_ctx* c, int64_t chunk, float* bp)
{
    switch (c->w_dtype) {
    case PN_DTYPE_F32: mm_gemm_chunk(c, PN_DTYPE_F32, chunk, bp); break;
    case PN_DTYPE_F16: mm_gemm_chunk(c, PN_DTYPE_F16, chunk, bp); break;
    default: mm_gemm_chunk(c, PN_DTYPE_BF16, chunk, bp); break;
    }
}

#define MM_GEMV(WD)                                                                           \
    do {                                                                                      \
        if (c->w_input_major) mm_gemv_cols(c, WD, x, y, j0, j1);                              \
        else mm_gemv_rows(c, WD, x, y, j0, j1);                                               \
    } while (0)

static void PN_SFX(mm_gemv_range)(const pn_matmul_ctx* c, int64_t row, int64_t j0, int64_t j1)
{
    const float* x = c->x + row * c->k;
    float* y = c->y + row * c->n;
    switch (c->w_dtype) {
    case PN_DTYPE_F32: MM_GEMV(PN_DTYPE_F32); break;
    case PN_DTYPE_F16: MM_GEMV(PN_DTYPE_F16); break;
    default: MM_GEMV(PN_DTYPE_BF16); break;
    }
}
#undef MM_GEMV

PN_INTERNAL const pn_matmul_kernels PN_SFX(pn_matmul) = {
    .isa = PN_ISA_ID,
    .mr = PN_MR,
    .nr = MM_NR,
    .gemv_cols = MM_GV * VLEN,
    .gemm_chunk = PN_SFX(mm_gemm_chunk),
    .gemv_range = PN_SFX(mm_gemv_range),
};
