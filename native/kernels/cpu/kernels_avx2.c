/* kernels_avx2.c — the avx2 dispatch table. */
#include "pn_vec_avx2.h"
#include "pn_vec_common.h"

PN_INTERNAL const pn_kernels PN_SFX(pn_kernels) = {
    .isa = PN_ISA_ID,
    .vec_bytes = VLEN * 4,
    .mr = PN_MR,
    .nr = PN_NV * VLEN,
    .bf16_deint = PN_BF16_DEINT,
    .affine_range = PN_SFX(pn_affine_range),
    .convert_range = PN_SFX(pn_convert_range),
    .scale_rows_range = PN_SFX(pn_scale_rows_range),
    .scale_cols_range = PN_SFX(pn_scale_cols_range),
    .merge_chunk = PN_SFX(pn_merge_chunk),
    .rmw_range = PN_SFX(pn_rmw_range),
    .fma_loop = PN_SFX(pn_fma_loop),
    .bf16_loop = PN_SFX(pn_bf16_loop),
};
