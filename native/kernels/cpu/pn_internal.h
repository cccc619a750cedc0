/* pn_internal.h — shared internals of libpeft_native (not part of the ABI). */
#ifndef PN_INTERNAL_H
#define PN_INTERNAL_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "peft_native.h"

#define PN_INTERNAL __attribute__((visibility("hidden")))
#define PN_ALWAYS_INLINE static inline __attribute__((always_inline))

/* ---- errors (api.c) ---- */
PN_INTERNAL pn_status pn_fail(pn_status status, const char* fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* ---- thread pool (threadpool.c) ---- */
typedef void (*pn_task_fn)(void* ctx, int64_t chunk);
/* Runs fn(ctx, c) for every c in [0, chunks) on up to `threads` threads (caller included). */
PN_INTERNAL void pn_parallel_for(int64_t chunks, int threads, pn_task_fn fn, void* ctx);
PN_INTERNAL int pn_logical_cpus(void);
/* threads <= 0 -> default; then capped so each thread gets >= min_work units of `work`. */
PN_INTERNAL int pn_effective_threads(int32_t threads, int64_t work, int64_t min_work);
PN_INTERNAL double pn_now(void);

/* ---- dtype helpers ---- */
PN_ALWAYS_INLINE size_t pn_dtype_size(int32_t dt) { return dt == PN_DTYPE_F32 ? 4u : 2u; }

PN_ALWAYS_INLINE uint32_t pn_f32_bits(float f) { uint32_t u; memcpy(&u, &f, 4); return u; }
PN_ALWAYS_INLINE float pn_bits_f32(uint32_t u) { float f; memcpy(&f, &u, 4); return f; }

/* bf16 -> f32: widen; a NaN is quieted. */
PN_ALWAYS_INLINE float pn_bf16_to_f32(uint16_t h)
{
    uint32_t u = (uint32_t)h << 16;
    if ((u & 0x7FFFFFFFu) > 0x7F800000u) u |= 0x00400000u;
    return pn_bits_f32(u);
}
/* bf16 -> f32 without quieting (arithmetic paths quiet NaN anyway). */
PN_ALWAYS_INLINE float pn_bf16_widen(uint16_t h) { return pn_bits_f32((uint32_t)h << 16); }

/* f32 -> bf16, round to nearest even; NaN -> quiet NaN with the top payload bits and sign. */
PN_ALWAYS_INLINE uint16_t pn_f32_to_bf16(float f)
{
    uint32_t u = pn_f32_bits(f);
    if ((u & 0x7FFFFFFFu) > 0x7F800000u) return (uint16_t)((u >> 16) | 0x40u);
    return (uint16_t)((u + 0x7FFFu + ((u >> 16) & 1u)) >> 16);
}

/* f16 -> f32, exact (subnormals, Inf); NaN quieted with its payload (as VCVTPH2PS). */
PN_ALWAYS_INLINE float pn_f16_to_f32(uint16_t h)
{
    uint32_t sign = (uint32_t)(h & 0x8000u) << 16;
    uint32_t exp = (h >> 10) & 0x1Fu;
    uint32_t man = h & 0x3FFu;
    uint32_t u;
    if (exp == 0x1Fu) {
        u = sign | 0x7F800000u | (man << 13);
        if (man) u |= 0x00400000u;
    } else if (exp != 0) {
        u = sign | ((exp + 112u) << 23) | (man << 13);
    } else if (man == 0) {
        u = sign;
    } else { /* subnormal: normalise */
        uint32_t e = 113u;
        while ((man & 0x400u) == 0) { man <<= 1; e--; }
        u = sign | (e << 23) | ((man & 0x3FFu) << 13);
    }
    return pn_bits_f32(u);
}

/* f32 -> f16, round to nearest even, overflow -> Inf, NaN -> quiet NaN keeping the top payload
 * bits and sign (the VCVTPS2PH rule). */
PN_ALWAYS_INLINE uint16_t pn_f32_to_f16(float f)
{
    uint32_t u = pn_f32_bits(f);
    uint16_t sign = (uint16_t)((u >> 16) & 0x8000u);
    uint32_t a = u & 0x7FFFFFFFu;
    if (a > 0x7F800000u) return (uint16_t)(sign | 0x7E00u | ((a >> 13) & 0x3FFu));
    if (a >= 0x47800000u) return (uint16_t)(sign | 0x7C00u); /* >= 65536: Inf (incl. Inf) */
    if (a >= 0x38800000u) {                                   /* normal f16 range */
        uint32_t r = a + 0x0FFFu + ((a >> 13) & 1u) - 0x38000000u;
        return (uint16_t)(sign | (uint16_t)(r >> 13)); /* may carry into Inf: correct */
    }
    if (a < 0x33000000u) return sign; /* < 2^-25: rounds to 0 (2^-25 exactly ties to 0) */
    {   /* subnormal f16 result */
        uint32_t e = a >> 23;
        uint32_t m = (a & 0x7FFFFFu) | 0x800000u;
        uint32_t shift = 126u - e; /* 14..24 */
        uint32_t q = m >> shift;
        uint32_t rem = m & ((1u << shift) - 1u);
        uint32_t half = 1u << (shift - 1u);
        if (rem > half || (rem == half && (q & 1u))) q++;
        return (uint16_t)(sign | q);
    }
}

PN_ALWAYS_INLINE float pn_load_scalar(int32_t dt, const void* p, int64_t i)
{
    if (dt == PN_DTYPE_F32) return ((const float*)p)[i];
    if (dt == PN_DTYPE_F16) return pn_f16_to_f32(((const uint16_t*)p)[i]);
    return pn_bf16_widen(((const uint16_t*)p)[i]);
}

/* ---- kernel contexts ---- */
typedef struct pn_affine_ctx {
    int32_t in_dtype, out_dtype;
    int32_t k;
    int32_t stream; /* non-temporal stores allowed */
    const void* const* inputs;
    const float* weights;
    float constant;
    void* out;
    int32_t* nonfinite;  /* NULL, or set to 1 (relaxed atomic) when a stored value is NaN/Inf */
    float finite_limit;  /* largest |value| that stays finite when rounded to out_dtype */
} pn_affine_ctx;

typedef struct pn_convert_ctx {
    int32_t src_dtype, dst_dtype;
    int32_t stream_ok; /* the whole output is large: non-temporal stores allowed */
    const void* src;
    void* dst;
} pn_convert_ctx;

typedef struct pn_scale_ctx {
    int32_t w_dtype;
    void* w;
    int64_t rows, cols;
    const float* lv;   /* scale_cols: cols f32 factors (already inverted) */
    int32_t l_dtype;   /* scale_rows: l as given */
    const void* l;
    int32_t inverse;
} pn_scale_ctx;

typedef struct pn_merge_ctx {
    int32_t w_dtype;
    void* w;
    int64_t rows, cols;   /* stored W shape */
    int64_t R;            /* packed rank (padded none) */
    const float* lp;      /* left factor, row panels of MR: [rows/MR][R][MR] */
    const float* rp;      /* right factor, column panels of NR: [cols/NR][R][NR] */
    int64_t mc, nc;       /* cache block: rows per chunk, columns per block */
    int64_t row_blocks, col_blocks;
} pn_merge_ctx;

/* ---- per-ISA function table ---- */
typedef struct pn_kernels {
    int32_t isa;
    int32_t vec_bytes;    /* widest vector */
    int32_t mr, nr;       /* merge register block */
    int32_t bf16_deint;   /* bf16 W: Rp panels packed even columns first, then odd (nr / 2 each) */
    void (*affine_range)(const pn_affine_ctx* c, int64_t begin, int64_t end);
    void (*convert_range)(const pn_convert_ctx* c, int64_t begin, int64_t end);
    void (*scale_rows_range)(const pn_scale_ctx* c, int64_t r0, int64_t r1);
    void (*scale_cols_range)(const pn_scale_ctx* c, int64_t r0, int64_t r1);
    void (*merge_chunk)(const pn_merge_ctx* c, int64_t chunk);
    void (*rmw_range)(float* p, int64_t nwords);
    double (*fma_loop)(double seconds);   /* returns flops done */
    double (*bf16_loop)(double seconds);  /* returns flops done */
} pn_kernels;

PN_INTERNAL const pn_kernels* pn_active(void);

extern PN_INTERNAL const pn_kernels pn_kernels_scalar;
#if defined(PN_HAVE_X86)
extern PN_INTERNAL const pn_kernels pn_kernels_avx2;
extern PN_INTERNAL const pn_kernels pn_kernels_avx512;
extern PN_INTERNAL int pn_cpu_has_avx512_bf16;
#endif

/* ---- argument checks shared by the API files ------------------------------------------------ */

/* [a, a + na) and [b, b + nb) share a byte. */
static inline int pn_ranges_overlap(const void* a, int64_t na, const void* b, int64_t nb)
{
    if (na <= 0 || nb <= 0 || !a || !b) return 0;
    uintptr_t a0 = (uintptr_t)a, b0 = (uintptr_t)b;
    return a0 < b0 + (uintptr_t)nb && b0 < a0 + (uintptr_t)na;
}

/* rows * cols * element_size, or -1 on overflow. */
static inline int64_t pn_checked_bytes(int64_t rows, int64_t cols, int64_t element_size)
{
    int64_t n, b;
    if (__builtin_mul_overflow(rows, cols, &n) || __builtin_mul_overflow(n, element_size, &b)) return -1;
    return b;
}

#endif
