/* convert.cu — dtype conversion of n values (f32 <-> f16 <-> bf16, same-dtype copy), bit-identical
 * to pn_cpu_convert: kernel -> launcher -> exported entry. Each thread reads its 8 values before
 * writing them, so an identical src/dst of equal element size converts in place. */
#include "pnc_internal.cuh"

#define CONVERT_THREADS 256

template <int SRC, int DST, bool VEC>
__global__ void __launch_bounds__(CONVERT_THREADS)
convert_kernel(const void* src, void* dst, int64_t n)
{
    const int64_t stride = (int64_t)gridDim.x * blockDim.x * 8;
    for (int64_t j = ((int64_t)blockIdx.x * blockDim.x + threadIdx.x) * 8; j < n; j += stride) {
        float v[8];
        if (VEC && j + 8 <= n) {
            pnc_load8<SRC>(src, j, v);
            pnc_store8<DST>(dst, j, v);
        } else {
#pragma unroll
            for (int t = 0; t < 8; t++)
                if (j + t < n) v[t] = pnc_load<SRC>(src, j + t);
#pragma unroll
            for (int t = 0; t < 8; t++)
                if (j + t < n) pnc_store<DST>(dst, j + t, v[t]);
        }
    }
}

template <int SRC, int DST>
static pn_status launch_convert(const void* src, void* dst, int64_t n, bool vec, cudaStream_t stream)
{
    const unsigned blocks = pnc_blocks((n + 7) / 8, CONVERT_THREADS);
    if (vec) convert_kernel<SRC, DST, true><<<blocks, CONVERT_THREADS, 0, stream>>>(src, dst, n);
    else convert_kernel<SRC, DST, false><<<blocks, CONVERT_THREADS, 0, stream>>>(src, dst, n);
    PNC_CHECK_LAUNCH("convert_kernel");
    return PN_OK;
}

static pn_status convert_checked(int32_t src_dtype, const void* src, int32_t dst_dtype, void* dst,
                                 int64_t n, cudaStream_t stream)
{
    const char* fn = "pn_cuda_convert";
    if (!pnc_valid_dtype(src_dtype)) return pnc_fail(PN_ERR_INVALID_ARGUMENT, "%s: unknown src_dtype %d", fn, (int)src_dtype);
    if (!pnc_valid_dtype(dst_dtype)) return pnc_fail(PN_ERR_INVALID_ARGUMENT, "%s: unknown dst_dtype %d", fn, (int)dst_dtype);
    if (n < 0) return pnc_fail(PN_ERR_INVALID_ARGUMENT, "%s: n is negative (%lld)", fn, (long long)n);
    const int64_t sb = pnc_bytes_of(n, 1, src_dtype), db = pnc_bytes_of(n, 1, dst_dtype);
    if (sb < 0 || db < 0) return pnc_fail(PN_ERR_INVALID_ARGUMENT, "%s: n is too large (%lld)", fn, (long long)n);
    if (n == 0) return PN_OK;
    if (!src) return pnc_fail(PN_ERR_INVALID_ARGUMENT, "%s: src is null", fn);
    if (!dst) return pnc_fail(PN_ERR_INVALID_ARGUMENT, "%s: dst is null", fn);
    if (src == dst) {
        if (pnc_dtype_size(src_dtype) != pnc_dtype_size(dst_dtype))
            return pnc_fail(PN_ERR_INVALID_ARGUMENT, "%s: in-place conversion needs equal element sizes", fn);
    } else if (pnc_overlaps(src, sb, dst, db)) {
        return pnc_fail(PN_ERR_INVALID_ARGUMENT, "%s: dst overlaps src", fn);
    }
    const bool vec = pnc_vec_ok(src, 8, src_dtype) && pnc_vec_ok(dst, 8, dst_dtype);
    pn_status st = PN_OK;
    PNC_DISPATCH_DTYPE(src_dtype, SRC, PNC_DISPATCH_DTYPE(dst_dtype, DST,
        st = (launch_convert<SRC, DST>(src, dst, n, vec, stream))))
    return st;
}

extern "C" PN_API pn_status pn_cuda_convert(int32_t src_dtype, const void* src, int32_t dst_dtype,
                                            void* dst, int64_t n, pn_cuda_stream stream)
{
    PNC_GUARD_BEGIN
    return convert_checked(src_dtype, src, dst_dtype, dst, n, (cudaStream_t)stream);
    PNC_GUARD_END("pn_cuda_convert")
}
