/* matmul_internal.h — shared internals of pn_cpu_matmul (matmul_api.c and the per-ISA
 * matmul_<isa>.c files built from matmul_body.h). Not part of the ABI. */
#ifndef PN_MATMUL_INTERNAL_H
#define PN_MATMUL_INTERNAL_H

#include "pn_internal.h"

/* One product y (m x n) [+]= x (m x k) . B, where B (k x n) is W^T for W stored (n x k) or W
 * itself for W stored (k x n) (w_input_major). Everything here is read-only to the kernels except
 * y, and each element of y is written by exactly one thread. */
typedef struct pn_matmul_ctx {
    int64_t m, n, k;
    const float* x;       /* m x k, row-major */
    int32_t w_dtype;
    int32_t w_input_major;
    int32_t accumulate;   /* add to y instead of overwriting it (y is never read otherwise) */
    const void* w;
    float* y;             /* m x n, row-major */
    int64_t kc;           /* k block: a packed B block is kc x nc f32 */
    int64_t nc;           /* columns per chunk (a multiple of the register block's nr) */
} pn_matmul_ctx;

/* The per-ISA kernels (matmul_<isa>.c). */
typedef struct pn_matmul_kernels {
    int32_t isa;
    int32_t mr, nr;       /* register block of the GEMM microkernel */
    int32_t gemv_cols;    /* column granularity of the GEMV chunks */
    /* Columns [chunk * nc, min(n, (chunk + 1) * nc)) of every row of y, through the packed
     * B block bp (kc * nc f32, 64-byte aligned, private to the calling thread). */
    void (*gemm_chunk)(const pn_matmul_ctx* c, int64_t chunk, float* bp);
    /* Columns [j0, j1) of row `row` of y, reading W in place (no packing): the decode path. */
    void (*gemv_range)(const pn_matmul_ctx* c, int64_t row, int64_t j0, int64_t j1);
} pn_matmul_kernels;

extern PN_INTERNAL const pn_matmul_kernels pn_matmul_scalar;
#if defined(PN_HAVE_X86)
extern PN_INTERNAL const pn_matmul_kernels pn_matmul_avx2;
extern PN_INTERNAL const pn_matmul_kernels pn_matmul_avx512;
#endif

#endif
