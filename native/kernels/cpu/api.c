/* api.c — the exported kernel entries: argument validation (everything is checked before
 * anything is written), scratch packing, threading, then dispatch to the active ISA table.
 *
 * Policies the managed side relies on:
 *  - pn_last_error(): a thread-local 1 KiB buffer holding the message of the last failed call on
 *    this thread; a successful call does not clear it ("" until the first failure).
 *  - The active ISA table is read once per call, so pn_set_isa() from another thread never mixes
 *    kernels within a call.
 *  - No alignment requirement beyond the element type's: vector loads/stores are unaligned,
 *    tails go through a small stack buffer, non-temporal stores peel to the store width.
 *  - Threads: chunks handed out by an atomic counter on the persistent pool (threadpool.c);
 *    results do not depend on the thread count (each output element is computed by exactly one
 *    thread with the same operation order). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "pn_internal.h"

/* ---- errors, version ------------------------------------------------------------------------ */

static _Thread_local char g_last_error[1024];

pn_status pn_fail(pn_status status, const char* fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(g_last_error, sizeof g_last_error, fmt, ap);
    va_end(ap);
    return status;
}

PN_API const char* pn_version(void) { return "0.1.0"; }
PN_API int32_t pn_abi_version(void) { return PN_ABI_VERSION; }
PN_API const char* pn_last_error(void) { return g_last_error; }

/* ---- validation helpers --------------------------------------------------------------------- */

#define PN_CHUNK_ELEMS ((int64_t)16384)  /* elements per task of the elementwise kernels */
#define PN_MIN_WORK ((int64_t)65536)     /* elements per thread below which fewer threads run */
#ifndef PN_STREAM_BYTES
#define PN_STREAM_BYTES ((int64_t)4 << 20) /* outputs at least this large use NT stores */
#endif

static int valid_dtype(int32_t dt)
{
    return dt == PN_DTYPE_F32 || dt == PN_DTYPE_F16 || dt == PN_DTYPE_BF16;
}

/* rows * cols elements of dtype dt, as bytes, or -1 on overflow. */
static int64_t bytes_of(int64_t rows, int64_t cols, int32_t dt) { return pn_checked_bytes(rows, cols, (int64_t)pn_dtype_size(dt)); }

static void* scratch_alloc(size_t bytes)
{
    size_t rounded = (bytes + 63u) & ~(size_t)63u;
    if (rounded == 0) rounded = 64;
    return aligned_alloc(64, rounded);
}

/* ---- affine --------------------------------------------------------------------------------- */

typedef struct affine_job {
    const pn_kernels* k;
    pn_affine_ctx c;
    int64_t n;
} affine_job;

static void affine_task(void* p, int64_t chunk)
{
    const affine_job* j = (const affine_job*)p;
    int64_t b = chunk * PN_CHUNK_ELEMS;
    int64_t e = b + PN_CHUNK_ELEMS < j->n ? b + PN_CHUNK_ELEMS : j->n;
    j->k->affine_range(&j->c, b, e);
}

/* The largest |x| that stays finite when rounded (to nearest even) to dtype: for bf16 and f16
 * the midpoint between the largest finite value and infinity rounds to infinity (its neighbour
 * below is odd), so the limit is the float just below that midpoint. */
static float finite_limit(int32_t dtype)
{
    uint32_t bits = dtype == PN_DTYPE_BF16  ? 0x7F7F7FFFu  /* below 0x7F7F8000 (bf16 max + ulp/2) */
                    : dtype == PN_DTYPE_F16 ? 0x477FEFFFu  /* below 65520 (f16 max + ulp/2) */
                                            : 0x7F7FFFFFu; /* FLT_MAX */
    float f;
    memcpy(&f, &bits, sizeof f);
    return f;
}

/* Both affine entry points; fn names the one called in error messages. */
static pn_status affine(const char* fn, int32_t in_dtype, int32_t out_dtype, int64_t n, int32_t k,
                        const void* const* inputs, const float* weights, float constant, void* out,
                        int32_t threads, uint32_t flags, int32_t* nonfinite)
{
    if (!valid_dtype(in_dtype))
        return pn_fail(PN_ERR_INVALID_ARGUMENT, "%s: unknown in_dtype %d", fn, (int)in_dtype);
    if (!valid_dtype(out_dtype))
        return pn_fail(PN_ERR_INVALID_ARGUMENT, "%s: unknown out_dtype %d", fn, (int)out_dtype);
    if (n < 0) return pn_fail(PN_ERR_INVALID_ARGUMENT, "%s: n is negative (%lld)", fn, (long long)n);
    if (k < 1) return pn_fail(PN_ERR_INVALID_ARGUMENT, "%s: k must be >= 1 (got %d)", fn, (int)k);
    if (flags & ~(uint32_t)PN_AFFINE_STREAM)
        return pn_fail(PN_ERR_INVALID_ARGUMENT, "%s: unknown flags 0x%x", fn,
                       (unsigned)(flags & ~(uint32_t)PN_AFFINE_STREAM));
    if (nonfinite) *nonfinite = 0;
    if (n == 0) return PN_OK;
    int64_t in_bytes = bytes_of(n, 1, in_dtype), out_bytes = bytes_of(n, 1, out_dtype);
    if (in_bytes < 0 || out_bytes < 0)
        return pn_fail(PN_ERR_INVALID_ARGUMENT, "%s: n is too large (%lld)", fn, (long long)n);
    if (!inputs) return pn_fail(PN_ERR_INVALID_ARGUMENT, "%s: inputs is null", fn);
    if (!weights) return pn_fail(PN_ERR_INVALID_ARGUMENT, "%s: weights is null", fn);
    if (!out) return pn_fail(PN_ERR_INVALID_ARGUMENT, "%s: out is null", fn);
    int aliased = 0;
    for (int32_t i = 0; i < k; i++) {
        if (!inputs[i])
            return pn_fail(PN_ERR_INVALID_ARGUMENT, "%s: inputs[%d] is null", fn, (int)i);
        if (inputs[i] == (const void*)out) {
            if (in_dtype != out_dtype)
                return pn_fail(PN_ERR_INVALID_ARGUMENT,
                               "%s: out is inputs[%d] but in_dtype != out_dtype", fn, (int)i);
            aliased = 1;
        } else if (pn_ranges_overlap(inputs[i], in_bytes, out, out_bytes)) {
            return pn_fail(PN_ERR_INVALID_ARGUMENT, "%s: out overlaps inputs[%d]", fn, (int)i);
        }
    }
    affine_job j;
    j.k = pn_active();
    j.n = n;
    j.c.in_dtype = in_dtype;
    j.c.out_dtype = out_dtype;
    j.c.k = k;
    j.c.stream = !aliased && (out_bytes >= PN_STREAM_BYTES || (flags & PN_AFFINE_STREAM));
    j.c.inputs = inputs;
    j.c.weights = weights;
    j.c.constant = constant;
    j.c.out = out;
    j.c.nonfinite = nonfinite;
    j.c.finite_limit = finite_limit(out_dtype);
    int t = pn_effective_threads(threads, n, PN_MIN_WORK);
    pn_parallel_for((n + PN_CHUNK_ELEMS - 1) / PN_CHUNK_ELEMS, t, affine_task, &j);
    return PN_OK;
}

PN_API pn_status pn_cpu_affine(int32_t in_dtype, int32_t out_dtype, int64_t n, int32_t k,
                               const void* const* inputs, const float* weights, float constant,
                               void* out, int32_t threads)
{
    return affine("pn_cpu_affine", in_dtype, out_dtype, n, k, inputs, weights, constant, out,
                  threads, 0u, NULL);
}

PN_API pn_status pn_cpu_affine_ex(int32_t in_dtype, int32_t out_dtype, int64_t n, int32_t k,
                                  const void* const* inputs, const float* weights, float constant,
                                  void* out, int32_t threads, uint32_t flags, int32_t* nonfinite)
{
    return affine("pn_cpu_affine_ex", in_dtype, out_dtype, n, k, inputs, weights, constant, out,
                  threads, flags, nonfinite);
}

/* ---- convert -------------------------------------------------------------------------------- */

typedef struct convert_job {
    const pn_kernels* k;
    pn_convert_ctx c;
    int64_t n;
} convert_job;

static void convert_task(void* p, int64_t chunk)
{
    const convert_job* j = (const convert_job*)p;
    int64_t b = chunk * PN_CHUNK_ELEMS;
    int64_t e = b + PN_CHUNK_ELEMS < j->n ? b + PN_CHUNK_ELEMS : j->n;
    j->k->convert_range(&j->c, b, e);
}

PN_API pn_status pn_cpu_convert(int32_t src_dtype, const void* src, int32_t dst_dtype,
                                void* dst, int64_t n, int32_t threads)
{
    static const char* fn = "pn_cpu_convert";
    if (!valid_dtype(src_dtype))
        return pn_fail(PN_ERR_INVALID_ARGUMENT, "%s: unknown src_dtype %d", fn, (int)src_dtype);
    if (!valid_dtype(dst_dtype))
        return pn_fail(PN_ERR_INVALID_ARGUMENT, "%s: unknown dst_dtype %d", fn, (int)dst_dtype);
    if (n < 0) return pn_fail(PN_ERR_INVALID_ARGUMENT, "%s: n is negative (%lld)", fn, (long long)n);
    if (n == 0) return PN_OK;
    int64_t sb = bytes_of(n, 1, src_dtype), db = bytes_of(n, 1, dst_dtype);
    if (sb < 0 || db < 0)
        return pn_fail(PN_ERR_INVALID_ARGUMENT, "%s: n is too large (%lld)", fn, (long long)n);
    if (!src) return pn_fail(PN_ERR_INVALID_ARGUMENT, "%s: src is null", fn);
    if (!dst) return pn_fail(PN_ERR_INVALID_ARGUMENT, "%s: dst is null", fn);
    if (src == (const void*)dst) {
        if (sb != db)
            return pn_fail(PN_ERR_INVALID_ARGUMENT,
                           "%s: dst is src but the dtypes differ in size", fn);
    } else if (pn_ranges_overlap(src, sb, dst, db)) {
        return pn_fail(PN_ERR_INVALID_ARGUMENT, "%s: dst overlaps src", fn);
    }
    if (src == (const void*)dst && src_dtype == dst_dtype) return PN_OK;
    convert_job j;
    j.k = pn_active();
    j.n = n;
    j.c.src_dtype = src_dtype;
    j.c.dst_dtype = dst_dtype;
    j.c.stream_ok = src != (const void*)dst && db >= PN_STREAM_BYTES;
    j.c.src = src;
    j.c.dst = dst;
    int t = pn_effective_threads(threads, n, PN_MIN_WORK);
    pn_parallel_for((n + PN_CHUNK_ELEMS - 1) / PN_CHUNK_ELEMS, t, convert_task, &j);
    return PN_OK;
}

/* ---- scale rows / cols ---------------------------------------------------------------------- */

typedef struct scale_job {
    const pn_kernels* k;
    pn_scale_ctx c;
    int64_t rows_per_chunk;
    int cols_mode;
} scale_job;

static void scale_task(void* p, int64_t chunk)
{
    const scale_job* j = (const scale_job*)p;
    int64_t r0 = chunk * j->rows_per_chunk;
    int64_t r1 = r0 + j->rows_per_chunk < j->c.rows ? r0 + j->rows_per_chunk : j->c.rows;
    if (j->cols_mode) j->k->scale_cols_range(&j->c, r0, r1);
    else j->k->scale_rows_range(&j->c, r0, r1);
}

static pn_status scale_common(const char* fn, int cols_mode, int32_t w_dtype, void* w,
                              int64_t rows, int64_t cols, int32_t l_dtype, const void* l,
                              int32_t inverse, int32_t threads)
{
    if (!valid_dtype(w_dtype))
        return pn_fail(PN_ERR_INVALID_ARGUMENT, "%s: unknown w_dtype %d", fn, (int)w_dtype);
    if (!valid_dtype(l_dtype))
        return pn_fail(PN_ERR_INVALID_ARGUMENT, "%s: unknown l_dtype %d", fn, (int)l_dtype);
    if (rows < 0)
        return pn_fail(PN_ERR_INVALID_ARGUMENT, "%s: rows is negative (%lld)", fn, (long long)rows);
    if (cols < 0)
        return pn_fail(PN_ERR_INVALID_ARGUMENT, "%s: cols is negative (%lld)", fn, (long long)cols);
    if (inverse != 0 && inverse != 1)
        return pn_fail(PN_ERR_INVALID_ARGUMENT, "%s: inverse must be 0 or 1 (got %d)", fn,
                       (int)inverse);
    int64_t wb = bytes_of(rows, cols, w_dtype);
    int64_t nl = cols_mode ? cols : rows;
    int64_t lb = bytes_of(nl, 1, l_dtype);
    if (wb < 0 || lb < 0)
        return pn_fail(PN_ERR_INVALID_ARGUMENT, "%s: rows x cols is too large", fn);
    if (wb > 0 && !w) return pn_fail(PN_ERR_INVALID_ARGUMENT, "%s: w is null", fn);
    if (nl > 0 && !l) return pn_fail(PN_ERR_INVALID_ARGUMENT, "%s: l is null", fn);
    if (pn_ranges_overlap(w, wb, l, lb)) return pn_fail(PN_ERR_INVALID_ARGUMENT, "%s: w overlaps l", fn);
    if (inverse) {
        for (int64_t i = 0; i < nl; i++)
            if (pn_load_scalar(l_dtype, l, i) == 0.0f)
                return pn_fail(PN_ERR_INVALID_ARGUMENT,
                               "%s: l[%lld] is zero and inverse == 1", fn, (long long)i);
    }
    if (wb == 0) return PN_OK;

    scale_job j;
    j.k = pn_active();
    j.cols_mode = cols_mode;
    j.c.w_dtype = w_dtype;
    j.c.w = w;
    j.c.rows = rows;
    j.c.cols = cols;
    j.c.l_dtype = l_dtype;
    j.c.l = l;
    j.c.inverse = inverse;
    j.c.lv = NULL;
    float* lv = NULL;
    if (cols_mode) {
        lv = (float*)scratch_alloc((size_t)cols * sizeof(float));
        if (!lv)
            return pn_fail(PN_ERR_OUT_OF_MEMORY, "%s: cannot allocate %lld bytes of scratch", fn,
                           (long long)cols * 4);
        for (int64_t i = 0; i < cols; i++) {
            float s = pn_load_scalar(l_dtype, l, i);
            lv[i] = inverse ? 1.0f / s : s;
        }
        j.c.lv = lv;
    }
    j.rows_per_chunk = PN_CHUNK_ELEMS / cols;
    if (j.rows_per_chunk < 1) j.rows_per_chunk = 1;
    int t = pn_effective_threads(threads, rows * cols, PN_MIN_WORK);
    pn_parallel_for((rows + j.rows_per_chunk - 1) / j.rows_per_chunk, t, scale_task, &j);
    free(lv);
    return PN_OK;
}

PN_API pn_status pn_cpu_scale_rows(int32_t w_dtype, void* w, int64_t rows, int64_t cols,
                                   int32_t l_dtype, const void* l, int32_t inverse,
                                   int32_t threads)
{
    return scale_common("pn_cpu_scale_rows", 0, w_dtype, w, rows, cols, l_dtype, l, inverse,
                        threads);
}

PN_API pn_status pn_cpu_scale_cols(int32_t w_dtype, void* w, int64_t rows, int64_t cols,
                                   int32_t l_dtype, const void* l, int32_t inverse,
                                   int32_t threads)
{
    return scale_common("pn_cpu_scale_cols", 1, w_dtype, w, rows, cols, l_dtype, l, inverse,
                        threads);
}

/* ---- low-rank merge ------------------------------------------------------------------------- */

/* Packing: the merge is W (rows x cols, stored) += L (rows x R) * Rt (R x cols), R = sum of
 * ranks, factor f at rank offset off_f:
 *   transpose == 0: L(i, off+r) = s_f B_f[i][r],  Rt(off+r, j) = A_f[r][j]
 *   transpose == 1: L(i, off+r) = s_f A_f[r][i],  Rt(off+r, j) = B_f[j][r]
 * Lp holds row panels of MR (k-major, [R][MR]), Rp column panels of NR ([R][NR]); padding is 0.
 * With bf16 W on an ISA with deinterleaved bf16 tiles (pn_kernels.bf16_deint), each NR-column
 * row of an Rp panel holds the even columns first, then the odd ones (the order in which the
 * microkernel's single bf16 load per tile row splits W). */
typedef struct pack_job {
    const pn_lowrank_factor* f;
    int32_t count, transpose, deint;
    int64_t rows, cols, R;
    int64_t mr, nr, lpanels, rpanels;
    float* lp;
    float* rp;
} pack_job;

static void pack_task(void* p, int64_t chunk)
{
    const pack_job* j = (const pack_job*)p;
    const int64_t R = j->R;
    if (chunk < j->lpanels) {
        const int64_t mr = j->mr, i0 = chunk * mr;
        float* dst = j->lp + (size_t)chunk * (size_t)(R * mr);
        int64_t off = 0;
        for (int32_t f = 0; f < j->count; f++) {
            const pn_lowrank_factor* fa = &j->f[f];
            const int64_t rank = fa->rank;
            for (int64_t r = 0; r < rank; r++) {
                float* d = dst + (size_t)((off + r) * mr);
                for (int64_t i = 0; i < mr; i++) {
                    int64_t row = i0 + i;
                    float v = 0.0f;
                    if (row < j->rows) {
                        v = j->transpose ? pn_load_scalar(fa->dtype, fa->a, r * j->rows + row)
                                         : pn_load_scalar(fa->dtype, fa->b, row * rank + r);
                        v *= fa->scale;
                    }
                    d[i] = v;
                }
            }
            off += rank;
        }
    } else {
        const int64_t q = chunk - j->lpanels, nr = j->nr, j0 = q * nr;
        float* dst = j->rp + (size_t)q * (size_t)(R * nr);
        int64_t off = 0;
        for (int32_t f = 0; f < j->count; f++) {
            const pn_lowrank_factor* fa = &j->f[f];
            const int64_t rank = fa->rank;
            for (int64_t r = 0; r < rank; r++) {
                float* d = dst + (size_t)((off + r) * nr);
                for (int64_t c = 0; c < nr; c++) {
                    int64_t col = j0 + c;
                    float v = 0.0f;
                    if (col < j->cols)
                        v = j->transpose ? pn_load_scalar(fa->dtype, fa->b, col * rank + r)
                                         : pn_load_scalar(fa->dtype, fa->a, r * j->cols + col);
                    d[j->deint ? (c & 1) * (nr / 2) + (c >> 1) : c] = v;
                }
            }
            off += rank;
        }
    }
}

typedef struct merge_job {
    const pn_kernels* k;
    pn_merge_ctx c;
} merge_job;

static void merge_task(void* p, int64_t chunk)
{
    const merge_job* j = (const merge_job*)p;
    j->k->merge_chunk(&j->c, chunk);
}

#ifndef PN_RP_BLOCK_BYTES
#define PN_RP_BLOCK_BYTES ((int64_t)128 << 10) /* an Rp column block (R x nc f32) fits L2 */
#endif
#ifndef PN_MERGE_ROW_PANELS
#define PN_MERGE_ROW_PANELS 16                 /* row panels per task */
#endif

PN_API pn_status pn_cpu_lowrank_merge(int32_t w_dtype, void* w, int64_t out_features,
                                      int64_t in_features, int32_t transpose, int32_t count,
                                      const pn_lowrank_factor* factors, int32_t threads)
{
    static const char* fn = "pn_cpu_lowrank_merge";
    if (!valid_dtype(w_dtype))
        return pn_fail(PN_ERR_INVALID_ARGUMENT, "%s: unknown w_dtype %d", fn, (int)w_dtype);
    if (out_features < 0)
        return pn_fail(PN_ERR_INVALID_ARGUMENT, "%s: out_features is negative (%lld)", fn,
                       (long long)out_features);
    if (in_features < 0)
        return pn_fail(PN_ERR_INVALID_ARGUMENT, "%s: in_features is negative (%lld)", fn,
                       (long long)in_features);
    if (transpose != 0 && transpose != 1)
        return pn_fail(PN_ERR_INVALID_ARGUMENT, "%s: transpose must be 0 or 1 (got %d)", fn,
                       (int)transpose);
    if (count < 0)
        return pn_fail(PN_ERR_INVALID_ARGUMENT, "%s: count is negative (%d)", fn, (int)count);
    if (count == 0) return PN_OK;
    if (!factors) return pn_fail(PN_ERR_INVALID_ARGUMENT, "%s: factors is null", fn);
    int64_t wb = bytes_of(out_features, in_features, w_dtype);
    if (wb < 0) return pn_fail(PN_ERR_INVALID_ARGUMENT, "%s: W is too large", fn);
    if (wb > 0 && !w) return pn_fail(PN_ERR_INVALID_ARGUMENT, "%s: w is null", fn);
    int64_t R = 0;
    for (int32_t f = 0; f < count; f++) {
        const pn_lowrank_factor* fa = &factors[f];
        if (!valid_dtype(fa->dtype))
            return pn_fail(PN_ERR_INVALID_ARGUMENT, "%s: factor %d has unknown dtype %d", fn,
                           (int)f, (int)fa->dtype);
        if (fa->rank < 1)
            return pn_fail(PN_ERR_INVALID_ARGUMENT, "%s: factor %d has rank %d", fn, (int)f,
                           (int)fa->rank);
        if (fa->reserved != 0)
            return pn_fail(PN_ERR_INVALID_ARGUMENT, "%s: factor %d has reserved != 0", fn,
                           (int)f);
        int64_t bb = bytes_of(out_features, fa->rank, fa->dtype);
        int64_t ab = bytes_of(fa->rank, in_features, fa->dtype);
        if (bb < 0 || ab < 0)
            return pn_fail(PN_ERR_INVALID_ARGUMENT, "%s: factor %d is too large", fn, (int)f);
        if (bb > 0 && !fa->b)
            return pn_fail(PN_ERR_INVALID_ARGUMENT, "%s: factor %d has b null", fn, (int)f);
        if (ab > 0 && !fa->a)
            return pn_fail(PN_ERR_INVALID_ARGUMENT, "%s: factor %d has a null", fn, (int)f);
        if (pn_ranges_overlap(w, wb, fa->b, bb))
            return pn_fail(PN_ERR_INVALID_ARGUMENT, "%s: w overlaps factor %d b", fn, (int)f);
        if (pn_ranges_overlap(w, wb, fa->a, ab))
            return pn_fail(PN_ERR_INVALID_ARGUMENT, "%s: w overlaps factor %d a", fn, (int)f);
        R += fa->rank;
    }
    if (wb == 0) return PN_OK;

    const pn_kernels* k = pn_active();
    const int64_t rows = transpose ? in_features : out_features;
    const int64_t cols = transpose ? out_features : in_features;
    const int64_t mr = k->mr, nr = k->nr;
    const int64_t lpanels = (rows + mr - 1) / mr, rpanels = (cols + nr - 1) / nr;
    int64_t lfloats, rfloats, total;
    if (__builtin_mul_overflow(lpanels * mr, R, &lfloats) ||
        __builtin_mul_overflow(rpanels * nr, R, &rfloats) ||
        __builtin_add_overflow(lfloats, rfloats + 16, &total) || total > INT64_MAX / 8)
        return pn_fail(PN_ERR_OUT_OF_MEMORY, "%s: packed factors too large", fn);
    float* scratch = (float*)scratch_alloc((size_t)total * sizeof(float));
    if (!scratch)
        return pn_fail(PN_ERR_OUT_OF_MEMORY, "%s: cannot allocate %lld bytes of scratch", fn,
                       (long long)total * 4);

    int t = pn_effective_threads(threads, rows * cols, PN_MIN_WORK);

    /* Rp starts 64-byte aligned (its panels are read with aligned vector loads). */
    pack_job pj = {factors, count, transpose,
                   k->bf16_deint && w_dtype == PN_DTYPE_BF16,
                   rows, cols, R, mr, nr, lpanels, rpanels,
                   scratch, scratch + ((lfloats + 15) & ~(int64_t)15)};
    pn_parallel_for(lpanels + rpanels, t, pack_task, &pj);

    merge_job mj;
    mj.k = k;
    mj.c.w_dtype = w_dtype;
    mj.c.w = w;
    mj.c.rows = rows;
    mj.c.cols = cols;
    mj.c.R = R;
    mj.c.lp = pj.lp;
    mj.c.rp = pj.rp;
    int64_t nc = PN_RP_BLOCK_BYTES / (R * 4) / nr * nr;
    if (nc < nr) nc = nr;
    if (nc > rpanels * nr) nc = rpanels * nr;
    mj.c.nc = nc;
    mj.c.mc = mr * PN_MERGE_ROW_PANELS;
    mj.c.row_blocks = (rows + mj.c.mc - 1) / mj.c.mc;
    mj.c.col_blocks = (cols + nc - 1) / nc;
    pn_parallel_for(mj.c.row_blocks * mj.c.col_blocks, t, merge_task, &mj);
    free(scratch);
    return PN_OK;
}

/* ---- probes --------------------------------------------------------------------------------- */

typedef struct rmw_job {
    const pn_kernels* k;
    float* p;
    int64_t words, parts;
} rmw_job;

static void rmw_task(void* p, int64_t part)
{
    const rmw_job* j = (const rmw_job*)p;
    int64_t per = (j->words + j->parts - 1) / j->parts;
    per = (per + 15) & ~(int64_t)15;
    int64_t b = part * per, e = b + per < j->words ? b + per : j->words;
    if (b < e) j->k->rmw_range(j->p + b, e - b);
}

PN_API pn_status pn_probe_memory_rmw(void* buffer, int64_t bytes, int32_t repeats,
                                     int32_t threads, double* seconds)
{
    static const char* fn = "pn_probe_memory_rmw";
    if (!seconds) return pn_fail(PN_ERR_INVALID_ARGUMENT, "%s: seconds is null", fn);
    if (bytes < 0)
        return pn_fail(PN_ERR_INVALID_ARGUMENT, "%s: bytes is negative (%lld)", fn, (long long)bytes);
    if (repeats < 1)
        return pn_fail(PN_ERR_INVALID_ARGUMENT, "%s: repeats must be >= 1 (got %d)", fn,
                       (int)repeats);
    if (bytes >= 4 && !buffer) return pn_fail(PN_ERR_INVALID_ARGUMENT, "%s: buffer is null", fn);
    if (((uintptr_t)buffer & 3u) != 0)
        return pn_fail(PN_ERR_INVALID_ARGUMENT, "%s: buffer is not 4-byte aligned", fn);
    rmw_job j = {pn_active(), (float*)buffer, bytes / 4, 1};
    int t = pn_effective_threads(threads, j.words, PN_MIN_WORK);
    j.parts = t;
    double best = 0.0;
    for (int32_t r = 0; r < repeats; r++) {
        double t0 = pn_now();
        if (j.words > 0) pn_parallel_for(j.parts, t, rmw_task, &j);
        double dt = pn_now() - t0;
        if (r == 0 || dt < best) best = dt;
    }
    *seconds = best;
    return PN_OK;
}

typedef struct loop_job {
    double (*loop)(double);
    double seconds;
    double flops[256];
} loop_job;

static void loop_task(void* p, int64_t i)
{
    loop_job* j = (loop_job*)p;
    j->flops[i] = j->loop(j->seconds);
}

static pn_status run_loops(const char* fn, double (*loop)(double), int32_t milliseconds,
                           int32_t threads, double* gflops)
{
    if (!gflops) return pn_fail(PN_ERR_INVALID_ARGUMENT, "%s: gflops is null", fn);
    if (milliseconds < 1)
        return pn_fail(PN_ERR_INVALID_ARGUMENT, "%s: milliseconds must be >= 1 (got %d)", fn,
                       (int)milliseconds);
    int t = pn_effective_threads(threads, 0, 0);
    loop_job* j = (loop_job*)calloc(1, sizeof(loop_job));
    if (!j) return pn_fail(PN_ERR_OUT_OF_MEMORY, "%s: out of memory", fn);
    j->loop = loop;
    j->seconds = 1e-3 * milliseconds;
    double t0 = pn_now();
    pn_parallel_for(t, t, loop_task, j);
    double dt = pn_now() - t0;
    double total = 0.0;
    for (int i = 0; i < t; i++) total += j->flops[i];
    free(j);
    *gflops = dt > 0 ? total / dt * 1e-9 : 0.0;
    return PN_OK;
}

PN_API pn_status pn_probe_fma_f32(int32_t milliseconds, int32_t threads, double* gflops)
{
    return run_loops("pn_probe_fma_f32", pn_active()->fma_loop, milliseconds, threads, gflops);
}

PN_API pn_status pn_probe_bf16_dot(int32_t milliseconds, int32_t threads, double* gflops)
{
    return run_loops("pn_probe_bf16_dot", pn_active()->bf16_loop, milliseconds, threads, gflops);
}
