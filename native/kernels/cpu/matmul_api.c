/* matmul_api.c — pn_cpu_matmul: validation (everything checked before y is touched), blocking,
 * threading, and dispatch to the matmul kernels of the active ISA (matmul_body.h).
 *
 * Threads: the columns of y are cut into chunks (a few per thread, so a thread slowed by the
 * machine does not hold up the others) handed out by an atomic counter; each thread packs its
 * chunk's W blocks into its own scratch. Results do not depend on the thread count. */
#include <stdatomic.h>
#include <stdlib.h>

#include "matmul_internal.h"

#ifndef PN_MM_KC
#define PN_MM_KC ((int64_t)256)      /* k block: a packed B block (kc x nc f32) stays in L2 */
#endif
#ifndef PN_MM_NC_MAX
#define PN_MM_NC_MAX ((int64_t)256)  /* columns per chunk at most */
#endif
#define PN_MM_CHUNKS_PER_THREAD 4
#define PN_MM_GEMV_MAX_M 2           /* up to this many rows: GEMV, W read in place */
#define PN_MM_MIN_WORK ((int64_t)1 << 17) /* multiply-adds per thread below which fewer run */

static const pn_matmul_kernels* matmul_table(void)
{
#if defined(PN_HAVE_X86)
    switch (pn_active()->isa) {
    case PN_ISA_AVX512: return &pn_matmul_avx512;
    case PN_ISA_AVX2: return &pn_matmul_avx2;
    default: break;
    }
#endif
    return &pn_matmul_scalar;
}

/* [a, a + na) and [b, b + nb) share a byte. */
static int mm_overlaps(const void* a, int64_t na, const void* b, int64_t nb)
{
    if (na <= 0 || nb <= 0 || !a || !b) return 0;
    uintptr_t a0 = (uintptr_t)a, b0 = (uintptr_t)b;
    return a0 < b0 + (uintptr_t)nb && b0 < a0 + (uintptr_t)na;
}

/* rows * cols * es, or -1 on overflow. */
static int64_t mm_bytes(int64_t rows, int64_t cols, int64_t es)
{
    int64_t e, b;
    if (__builtin_mul_overflow(rows, cols, &e) || __builtin_mul_overflow(e, es, &b)) return -1;
    return b;
}

/* Columns per chunk: a multiple of `unit`, about PN_MM_CHUNKS_PER_THREAD chunks per thread. */
static int64_t chunk_columns(int64_t n, int threads, int64_t unit, int64_t cap)
{
    int64_t want = (n + (int64_t)threads * PN_MM_CHUNKS_PER_THREAD - 1) /
                   ((int64_t)threads * PN_MM_CHUNKS_PER_THREAD);
    int64_t cols = (want + unit - 1) / unit * unit;
    if (cols > cap) cols = cap / unit * unit;
    if (cols < unit) cols = unit;
    return cols;
}

typedef struct gemm_job {
    const pn_matmul_kernels* kt;
    pn_matmul_ctx c;
    int64_t chunks;
    _Atomic int64_t next;
    float* scratch;        /* one kc x nc block per thread */
    int64_t block_floats;
} gemm_job;

static void gemm_part(void* p, int64_t part)
{
    gemm_job* j = (gemm_job*)p;
    float* bp = j->scratch + part * j->block_floats;
    for (;;) {
        int64_t chunk = atomic_fetch_add_explicit(&j->next, 1, memory_order_relaxed);
        if (chunk >= j->chunks) break;
        j->kt->gemm_chunk(&j->c, chunk, bp);
    }
}

typedef struct gemv_job {
    const pn_matmul_kernels* kt;
    pn_matmul_ctx c;
    int64_t cols;          /* columns per chunk */
} gemv_job;

static void gemv_task(void* p, int64_t chunk)
{
    const gemv_job* j = (const gemv_job*)p;
    int64_t j0 = chunk * j->cols, j1 = j0 + j->cols < j->c.n ? j0 + j->cols : j->c.n;
    /* the chunk's W slice stays in cache from one row of x to the next */
    for (int64_t row = 0; row < j->c.m; row++) j->kt->gemv_range(&j->c, row, j0, j1);
}

PN_API pn_status pn_cpu_matmul(int64_t m, int64_t n, int64_t k, const float* x, int32_t w_dtype,
                               const void* w, int32_t weight_is_input_major, float* y,
                               int32_t accumulate, int32_t threads)
{
    static const char* fn = "pn_cpu_matmul";
    if (m < 0 || n < 0 || k < 0)
        return pn_fail(PN_ERR_INVALID_ARGUMENT, "%s: negative size (m %lld, n %lld, k %lld)", fn,
                       (long long)m, (long long)n, (long long)k);
    if (w_dtype != PN_DTYPE_F32 && w_dtype != PN_DTYPE_F16 && w_dtype != PN_DTYPE_BF16)
        return pn_fail(PN_ERR_INVALID_ARGUMENT, "%s: unknown w_dtype %d", fn, (int)w_dtype);
    if (weight_is_input_major != 0 && weight_is_input_major != 1)
        return pn_fail(PN_ERR_INVALID_ARGUMENT, "%s: weight_is_input_major must be 0 or 1 (got %d)",
                       fn, (int)weight_is_input_major);
    if (accumulate != 0 && accumulate != 1)
        return pn_fail(PN_ERR_INVALID_ARGUMENT, "%s: accumulate must be 0 or 1 (got %d)", fn,
                       (int)accumulate);
    const int64_t xb = mm_bytes(m, k, 4), wb = mm_bytes(n, k, (int64_t)pn_dtype_size(w_dtype));
    const int64_t yb = mm_bytes(m, n, 4);
    if (xb < 0 || wb < 0 || yb < 0)
        return pn_fail(PN_ERR_INVALID_ARGUMENT, "%s: m x n x k is too large (%lld x %lld x %lld)",
                       fn, (long long)m, (long long)n, (long long)k);
    if (xb > 0 && !x) return pn_fail(PN_ERR_INVALID_ARGUMENT, "%s: x is null", fn);
    if (wb > 0 && !w) return pn_fail(PN_ERR_INVALID_ARGUMENT, "%s: w is null", fn);
    if (yb > 0 && !y) return pn_fail(PN_ERR_INVALID_ARGUMENT, "%s: y is null", fn);
    if (mm_overlaps(y, yb, x, xb)) return pn_fail(PN_ERR_INVALID_ARGUMENT, "%s: y overlaps x", fn);
    if (mm_overlaps(y, yb, w, wb)) return pn_fail(PN_ERR_INVALID_ARGUMENT, "%s: y overlaps w", fn);
    if (yb == 0) return PN_OK;
    if (k == 0) { /* an empty sum: y = 0 (or y unchanged) */
        if (!accumulate) memset(y, 0, (size_t)yb);
        return PN_OK;
    }

    const pn_matmul_kernels* kt = matmul_table();
    pn_matmul_ctx c;
    c.m = m;
    c.n = n;
    c.k = k;
    c.x = x;
    c.w_dtype = w_dtype;
    c.w_input_major = weight_is_input_major;
    c.accumulate = accumulate;
    c.w = w;
    c.y = y;
    int64_t fmas; /* m * n cannot overflow: y's byte count did not */
    if (__builtin_mul_overflow(m * n, k, &fmas)) fmas = INT64_MAX;
    int t = pn_effective_threads(threads, fmas, PN_MM_MIN_WORK);

    if (m <= PN_MM_GEMV_MAX_M) {
        gemv_job j;
        j.kt = kt;
        j.c = c;
        j.c.kc = k;
        j.c.nc = 0;
        /* W (n x k) goes 4 rows at a time, W (k x n) a block of vectors at a time */
        int64_t unit = weight_is_input_major ? kt->gemv_cols : 4;
        j.cols = chunk_columns(n, t, unit, INT64_MAX / 2);
        pn_parallel_for((n + j.cols - 1) / j.cols, t, gemv_task, &j);
        return PN_OK;
    }

    gemm_job j;
    j.kt = kt;
    j.c = c;
    /* one k block when k is barely above kc (no sliver of a block) */
    j.c.kc = k <= PN_MM_KC + PN_MM_KC / 4 ? k : PN_MM_KC;
    j.c.nc = chunk_columns(n, t, kt->nr, PN_MM_NC_MAX < kt->nr ? kt->nr : PN_MM_NC_MAX);
    j.chunks = (n + j.c.nc - 1) / j.c.nc;
    if (t > j.chunks) t = (int)j.chunks;
    j.block_floats = (j.c.kc * j.c.nc + 15) & ~(int64_t)15;
    atomic_store_explicit(&j.next, 0, memory_order_relaxed);
    size_t scratch_bytes = (size_t)j.block_floats * (size_t)t * sizeof(float);
    j.scratch = (float*)aligned_alloc(64, (scratch_bytes + 63u) & ~(size_t)63u);
    if (!j.scratch)
        return pn_fail(PN_ERR_OUT_OF_MEMORY, "%s: cannot allocate %zu bytes of scratch", fn,
                       scratch_bytes);
    pn_parallel_for(t, t, gemm_part, &j);
    free(j.scratch);
    return PN_OK;
}
