/* lowrank_merge_body.h — the GEMM-style register block of the low-rank merge, instantiated once
 * per ISA. W (rows x cols, stored) += Lp * Rp with the packed operands of api.c:
 *   Lp: row panels of PN_MR rows, k-major: panel p = [R][PN_MR] f32 (scales folded in)
 *   Rp: column panels of NR = PN_NV * VLEN columns, k-major: panel q = [R][NR] f32 (64-aligned)
 * Each MR x NR tile of W is loaded once into registers (converted to f32), updated with R rank-1
 * FMAs and stored once (rounded once). Edge tiles go through a zero-padded W-dtype buffer so the
 * same register block (and the same conversions) serve them. */
#include "pn_vec_common.h"

#define MG_NR (PN_NV * VLEN)
#if PN_BF16_DEINT && PN_NV != 2
#error "the deinterleaved bf16 tile needs PN_NV == 2"
#endif

PN_ALWAYS_INLINE void mg_tile(int32_t WD, void* w, int64_t ld, const float* bp, const float* ap,
                              int64_t R)
{
    /* The rank-R product is accumulated apart from W and W added at the end, so the FMA chains
     * do not wait for W (prefetched by the caller); W is still read once and rounded once. */
    VF acc[PN_MR][PN_NV];
    {
        /* Rank step 0 is a plain product rather than an FMA onto zeroed registers: the same
         * value (an exact -0 product stays -0, as in the float64 reference), without the 12
         * register clears per tile (1-2% less CPU time at r = 8 on Zen 1). */
        VF a[PN_NV];
#pragma GCC unroll 8
        for (int v = 0; v < PN_NV; v++) a[v] = vload_f32a(ap + v * VLEN);
#pragma GCC unroll 16
        for (int i = 0; i < PN_MR; i++) {
            const VF b = vset1(bp[i]);
#pragma GCC unroll 8
            for (int v = 0; v < PN_NV; v++) acc[i][v] = vmul(b, a[v]);
        }
    }
    /* Two rank steps per iteration: about 3% more of the FMA roof at r = 64 on Zen 1 (the loop's
     * add/compare/branch share the front end with 12 FMAs per step); 4 measured the same. */
#pragma GCC unroll 2
    for (int64_t k = 1; k < R; k++) {
        VF a[PN_NV];
#pragma GCC unroll 8
        for (int v = 0; v < PN_NV; v++) a[v] = vload_f32a(ap + k * MG_NR + v * VLEN);
#pragma GCC unroll 16
        for (int i = 0; i < PN_MR; i++) {
            const VF b = vset1(bp[k * PN_MR + i]);
#pragma GCC unroll 8
            for (int v = 0; v < PN_NV; v++) acc[i][v] = vfma(b, a[v], acc[i][v]);
        }
    }
#if PN_BF16_DEINT
    if (WD == PN_DTYPE_BF16) {
        /* One 2*VLEN bf16 load per row: even columns to acc[i][0], odd to acc[i][1] (api.c packs
         * Rp in that order for bf16 W); stored back in the natural order. */
#pragma GCC unroll 16
        for (int i = 0; i < PN_MR; i++) {
            uint16_t* wr = (uint16_t*)w + i * ld;
            VF e, o;
            vload2_bf16(wr, &e, &o);
            vstore2_bf16(wr, vadd(e, acc[i][0]), vadd(o, acc[i][1]));
        }
        return;
    }
#endif
#pragma GCC unroll 16
    for (int i = 0; i < PN_MR; i++)
#pragma GCC unroll 8
        for (int v = 0; v < PN_NV; v++)
            vstore_dt(WD, w, i * ld + v * VLEN, vadd(vload_dt(WD, w, i * ld + v * VLEN), acc[i][v]));
}

PN_ALWAYS_INLINE void mg_edge(int32_t WD, void* w, int64_t ld, int64_t mr, int64_t nr,
                              const float* bp, const float* ap, int64_t R)
{
    _Alignas(64) unsigned char buf[PN_MR * MG_NR * 4];
    size_t es = pn_dtype_size(WD);
    memset(buf, 0, sizeof buf);
    for (int64_t i = 0; i < mr; i++)
        memcpy(buf + (size_t)(i * MG_NR) * es, (unsigned char*)w + (size_t)(i * ld) * es,
               (size_t)nr * es);
    mg_tile(WD, buf, MG_NR, bp, ap, R);
    for (int64_t i = 0; i < mr; i++)
        memcpy((unsigned char*)w + (size_t)(i * ld) * es, buf + (size_t)(i * MG_NR) * es,
               (size_t)nr * es);
}

PN_ALWAYS_INLINE void mg_chunk(const pn_merge_ctx* c, int32_t WD, int64_t chunk)
{
    const int64_t jb = chunk / c->row_blocks, ib = chunk % c->row_blocks;
    const int64_t i_begin = ib * c->mc, j_begin = jb * c->nc;
    const int64_t i_end = i_begin + c->mc < c->rows ? i_begin + c->mc : c->rows;
    const int64_t j_end = j_begin + c->nc < c->cols ? j_begin + c->nc : c->cols;
    const int64_t R = c->R, ld = c->cols;
    const size_t es = pn_dtype_size(WD);
    for (int64_t i0 = i_begin; i0 < i_end; i0 += PN_MR) {
        const int64_t mr = i_end - i0 < PN_MR ? i_end - i0 : PN_MR;
        const float* bp = c->lp + (size_t)(i0 / PN_MR) * (size_t)R * PN_MR;
        for (int64_t j0 = j_begin; j0 < j_end; j0 += MG_NR) {
            const int64_t nr = j_end - j0 < MG_NR ? j_end - j0 : MG_NR;
            const float* ap = c->rp + (size_t)(j0 / MG_NR) * (size_t)R * MG_NR;
            void* wt = (unsigned char*)c->w + (size_t)(i0 * ld + j0) * es;
            if (mr == PN_MR && nr == MG_NR) {
                /* prefetch the next tile's rows while this one computes */
                if (j0 + 2 * MG_NR <= j_end)
                    for (int i = 0; i < PN_MR; i++)
                        vprefetch((const unsigned char*)wt + (size_t)(i * ld + MG_NR) * es);
                mg_tile(WD, wt, ld, bp, ap, R);
            }
            else mg_edge(WD, wt, ld, mr, nr, bp, ap, R);
        }
    }
}

PN_INTERNAL void PN_SFX(pn_merge_chunk)(const pn_merge_ctx* c, int64_t chunk)
{
    switch (c->w_dtype) {
    case PN_DTYPE_F32: mg_chunk(c, PN_DTYPE_F32, chunk); break;
    case PN_DTYPE_F16: mg_chunk(c, PN_DTYPE_F16, chunk); break;
    default: mg_chunk(c, PN_DTYPE_BF16, chunk); break;
    }
}
