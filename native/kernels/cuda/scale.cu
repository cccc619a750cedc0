/* scale.cu — (IA)^3 row and column scaling in place, W[i][j] *= l[i] or l[j] (inverse: *= 1/l,
 * the reciprocal rounded to f32 once, as the CPU code): kernel -> launcher -> exported entries.
 * Each thread owns 8 consecutive elements of one row (16-byte loads when cols and W allow); an
 * inverse first looks for a zero in l on the device so that nothing is written when one is there. */
#include "pnc_internal.cuh"

#define SCALE_THREADS 256

__device__ __forceinline__ float scale_factor(float l, bool inverse) { return inverse ? 1.0f / l : l; }

/* ROWS: l indexes rows, else columns. VEC: cols % 8 == 0 and W 16-byte aligned. */
template <int WD, int LD, bool ROWS, bool VEC>
__global__ void __launch_bounds__(SCALE_THREADS)
scale_kernel(void* w, int64_t rows, int64_t cols, const void* l, bool inverse)
{
    const int64_t chunks_per_row = (cols + 7) / 8;
    const int64_t chunks = rows * chunks_per_row;
    const int64_t stride = (int64_t)gridDim.x * blockDim.x;
    for (int64_t c = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; c < chunks; c += stride) {
        const int64_t i = c / chunks_per_row, j0 = (c - i * chunks_per_row) * 8;
        const int64_t at = i * cols + j0;
        const float row_factor = ROWS ? scale_factor(pnc_load<LD>(l, i), inverse) : 0.0f;
        float v[8];
        if (VEC) {
            pnc_load8<WD>(w, at, v);
#pragma unroll
            for (int t = 0; t < 8; t++) v[t] *= ROWS ? row_factor : scale_factor(pnc_load<LD>(l, j0 + t), inverse);
            pnc_store8<WD>(w, at, v);
        } else {
#pragma unroll
            for (int t = 0; t < 8; t++)
                if (j0 + t < cols) {
                    const float f = ROWS ? row_factor : scale_factor(pnc_load<LD>(l, j0 + t), inverse);
                    pnc_store<WD>(w, at + t, pnc_load<WD>(w, at + t) * f);
                }
        }
    }
}

/* Sets *found = 1 when l has a zero (either sign). */
template <int LD>
__global__ void find_zero_kernel(const void* l, int64_t n, int* found)
{
    const int64_t stride = (int64_t)gridDim.x * blockDim.x;
    for (int64_t j = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; j < n; j += stride)
        if (pnc_load<LD>(l, j) == 0.0f) *found = 1;
}

template <int LD>
static pn_status has_zero(const void* l, int64_t n, cudaStream_t stream, bool* zero)
{
    int* found = nullptr;
    int host = 0;
    PNC_CHECK(cudaMallocAsync((void**)&found, sizeof(int), stream));
    cudaError_t err = cudaMemsetAsync(found, 0, sizeof(int), stream);
    if (err == cudaSuccess) {
        find_zero_kernel<LD><<<pnc_blocks(n, SCALE_THREADS), SCALE_THREADS, 0, stream>>>(l, n, found);
        err = cudaGetLastError();
    }
    if (err == cudaSuccess) err = cudaMemcpyAsync(&host, found, sizeof(int), cudaMemcpyDeviceToHost, stream);
    cudaError_t freed = cudaFreeAsync(found, stream);
    if (err == cudaSuccess) err = freed;
    if (err == cudaSuccess) err = cudaStreamSynchronize(stream);
    if (err != cudaSuccess) return pnc_cuda_fail(err, "the zero check of l (find_zero_kernel)");
    *zero = host != 0;
    return PN_OK;
}

template <int WD, int LD, bool ROWS>
static pn_status launch_scale(void* w, int64_t rows, int64_t cols, const void* l, bool inverse, bool vec,
                              cudaStream_t stream)
{
    const unsigned blocks = pnc_blocks(rows * ((cols + 7) / 8), SCALE_THREADS);
    if (vec) scale_kernel<WD, LD, ROWS, true><<<blocks, SCALE_THREADS, 0, stream>>>(w, rows, cols, l, inverse);
    else scale_kernel<WD, LD, ROWS, false><<<blocks, SCALE_THREADS, 0, stream>>>(w, rows, cols, l, inverse);
    PNC_CHECK_LAUNCH("scale_kernel");
    return PN_OK;
}

static pn_status scale_checked(const char* fn, bool by_rows, int32_t w_dtype, void* w, int64_t rows,
                               int64_t cols, int32_t l_dtype, const void* l, int32_t inverse, cudaStream_t stream)
{
    if (!pnc_valid_dtype(w_dtype)) return pnc_fail(PN_ERR_INVALID_ARGUMENT, "%s: unknown w_dtype %d", fn, (int)w_dtype);
    if (!pnc_valid_dtype(l_dtype)) return pnc_fail(PN_ERR_INVALID_ARGUMENT, "%s: unknown l_dtype %d", fn, (int)l_dtype);
    if (rows < 0) return pnc_fail(PN_ERR_INVALID_ARGUMENT, "%s: rows is negative (%lld)", fn, (long long)rows);
    if (cols < 0) return pnc_fail(PN_ERR_INVALID_ARGUMENT, "%s: cols is negative (%lld)", fn, (long long)cols);
    if (inverse != 0 && inverse != 1)
        return pnc_fail(PN_ERR_INVALID_ARGUMENT, "%s: inverse must be 0 or 1 (got %d)", fn, (int)inverse);
    const int64_t nl = by_rows ? rows : cols;
    const int64_t wb = pnc_bytes_of(rows, cols, w_dtype), lb = pnc_bytes_of(nl, 1, l_dtype);
    if (wb < 0 || lb < 0) return pnc_fail(PN_ERR_INVALID_ARGUMENT, "%s: rows x cols is too large", fn);
    if (wb > 0 && !w) return pnc_fail(PN_ERR_INVALID_ARGUMENT, "%s: w is null", fn);
    if (nl > 0 && !l) return pnc_fail(PN_ERR_INVALID_ARGUMENT, "%s: l is null", fn);
    if (pnc_overlaps(w, wb, l, lb)) return pnc_fail(PN_ERR_INVALID_ARGUMENT, "%s: w overlaps l", fn);
    if (wb == 0) return PN_OK;
    if (inverse) {
        bool zero = false;
        pn_status st = PN_OK;
        PNC_DISPATCH_DTYPE(l_dtype, LD, st = has_zero<LD>(l, nl, stream, &zero))
        if (st != PN_OK) return st;
        if (zero) return pnc_fail(PN_ERR_INVALID_ARGUMENT, "%s: cannot invert the scaling: l has a zero", fn);
    }
    const bool vec = pnc_vec_ok(w, cols, w_dtype) && cols % 8 == 0; /* 8-element chunks never cross a row */
    pn_status st = PN_OK;
    PNC_DISPATCH_DTYPE(w_dtype, WD, PNC_DISPATCH_DTYPE(l_dtype, LD,
        st = by_rows ? launch_scale<WD, LD, true>(w, rows, cols, l, inverse != 0, vec, stream)
                     : launch_scale<WD, LD, false>(w, rows, cols, l, inverse != 0, vec, stream)))
    return st;
}

extern "C" PN_API pn_status pn_cuda_scale_rows(int32_t w_dtype, void* w, int64_t rows, int64_t cols,
                                               int32_t l_dtype, const void* l, int32_t inverse,
                                               pn_cuda_stream stream)
{
    PNC_GUARD_BEGIN
    return scale_checked("pn_cuda_scale_rows", true, w_dtype, w, rows, cols, l_dtype, l, inverse, (cudaStream_t)stream);
    PNC_GUARD_END("pn_cuda_scale_rows")
}

extern "C" PN_API pn_status pn_cuda_scale_cols(int32_t w_dtype, void* w, int64_t rows, int64_t cols,
                                               int32_t l_dtype, const void* l, int32_t inverse,
                                               pn_cuda_stream stream)
{
    PNC_GUARD_BEGIN
    return scale_checked("pn_cuda_scale_cols", false, w_dtype, w, rows, cols, l_dtype, l, inverse, (cudaStream_t)stream);
    PNC_GUARD_END("pn_cuda_scale_cols")
}
