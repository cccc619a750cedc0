/* affine.cu — out[j] = constant + sum_i w_i * x_i[j]: kernel -> launcher -> exported entry.
 * Each thread owns 8 consecutive elements (16-byte loads when every pointer allows), reads each
 * input once and writes out once. The input table travels in the kernel parameters, up to
 * AFFINE_MAX inputs per launch; more inputs run in passes through an f32 scratch accumulator,
 * and only the last pass writes out (so an in-place out is read before it is written). */
#include "pnc_internal.cuh"

#define AFFINE_MAX 64
#define AFFINE_THREADS 256

struct affine_args {
    const void* inputs[AFFINE_MAX];
    float weights[AFFINE_MAX];
    int32_t k;
    float constant;
};

/* acc_in: f32 partial sums of an earlier pass (NULL: start from the constant). */
template <int IN, int OUT, bool VEC>
__global__ void __launch_bounds__(AFFINE_THREADS)
affine_kernel(const affine_args args, int64_t n, const float* acc_in, void* out)
{
    const int64_t stride = (int64_t)gridDim.x * blockDim.x * 8;
    for (int64_t j = ((int64_t)blockIdx.x * blockDim.x + threadIdx.x) * 8; j < n; j += stride) {
        float acc[8];
        const bool full = VEC && j + 8 <= n;
        if (full && acc_in) {
            pnc_load8<PN_DTYPE_F32>(acc_in, j, acc);
        } else {
#pragma unroll
            for (int t = 0; t < 8; t++) acc[t] = acc_in && j + t < n ? acc_in[j + t] : args.constant;
        }
        for (int32_t i = 0; i < args.k; i++) {
            const float w = args.weights[i];
            float x[8];
            if (full) {
                pnc_load8<IN>(args.inputs[i], j, x);
            } else {
#pragma unroll
                for (int t = 0; t < 8; t++) x[t] = j + t < n ? pnc_load<IN>(args.inputs[i], j + t) : 0.0f;
            }
#pragma unroll
            for (int t = 0; t < 8; t++) acc[t] = __fmaf_rn(w, x[t], acc[t]);
        }
        if (full) {
            pnc_store8<OUT>(out, j, acc);
        } else {
#pragma unroll
            for (int t = 0; t < 8; t++)
                if (j + t < n) pnc_store<OUT>(out, j + t, acc[t]);
        }
    }
}

template <int IN, int OUT>
static pn_status launch_affine(const affine_args& args, int64_t n, const float* acc_in, void* out,
                               bool vec, cudaStream_t stream)
{
    const unsigned blocks = pnc_blocks((n + 7) / 8, AFFINE_THREADS);
    if (vec) affine_kernel<IN, OUT, true><<<blocks, AFFINE_THREADS, 0, stream>>>(args, n, acc_in, out);
    else affine_kernel<IN, OUT, false><<<blocks, AFFINE_THREADS, 0, stream>>>(args, n, acc_in, out);
    PNC_CHECK_LAUNCH("affine_kernel");
    return PN_OK;
}

static pn_status launch_affine_any(int32_t in_dtype, int32_t out_dtype, const affine_args& args, int64_t n,
                                   const float* acc_in, void* out, bool vec, cudaStream_t stream)
{
    pn_status st = PN_OK;
    PNC_DISPATCH_DTYPE(in_dtype, IN, PNC_DISPATCH_DTYPE(out_dtype, OUT,
        st = (launch_affine<IN, OUT>(args, n, acc_in, out, vec, stream))))
    return st;
}

static pn_status affine_checked(int32_t in_dtype, int32_t out_dtype, int64_t n, int32_t k,
                                const void* const* inputs, const float* weights, float constant,
                                void* out, cudaStream_t stream)
{
    const char* fn = "pn_cuda_affine";
    if (!pnc_valid_dtype(in_dtype)) return pnc_fail(PN_ERR_INVALID_ARGUMENT, "%s: unknown in_dtype %d", fn, (int)in_dtype);
    if (!pnc_valid_dtype(out_dtype)) return pnc_fail(PN_ERR_INVALID_ARGUMENT, "%s: unknown out_dtype %d", fn, (int)out_dtype);
    if (n < 0) return pnc_fail(PN_ERR_INVALID_ARGUMENT, "%s: n is negative (%lld)", fn, (long long)n);
    if (k < 1) return pnc_fail(PN_ERR_INVALID_ARGUMENT, "%s: k must be >= 1 (got %d)", fn, (int)k);
    const int64_t in_bytes = pnc_bytes_of(n, 1, in_dtype), out_bytes = pnc_bytes_of(n, 1, out_dtype);
    if (in_bytes < 0 || out_bytes < 0) return pnc_fail(PN_ERR_INVALID_ARGUMENT, "%s: n is too large (%lld)", fn, (long long)n);
    if (!inputs) return pnc_fail(PN_ERR_INVALID_ARGUMENT, "%s: inputs is null", fn);
    if (!weights) return pnc_fail(PN_ERR_INVALID_ARGUMENT, "%s: weights is null", fn);
    if (n == 0) return PN_OK;
    if (!out) return pnc_fail(PN_ERR_INVALID_ARGUMENT, "%s: out is null", fn);
    bool vec = pnc_vec_ok(out, 8, out_dtype);
    for (int32_t i = 0; i < k; i++) {
        if (!inputs[i]) return pnc_fail(PN_ERR_INVALID_ARGUMENT, "%s: inputs[%d] is null", fn, (int)i);
        if (inputs[i] == out) {
            if (in_dtype != out_dtype)
                return pnc_fail(PN_ERR_INVALID_ARGUMENT, "%s: out is inputs[%d] but the dtypes differ", fn, (int)i);
        } else if (pnc_overlaps(inputs[i], in_bytes, out, out_bytes)) {
            return pnc_fail(PN_ERR_INVALID_ARGUMENT, "%s: out overlaps inputs[%d]", fn, (int)i);
        }
        vec = vec && pnc_vec_ok(inputs[i], 8, in_dtype);
    }

    float* scratch = nullptr;
    if (k > AFFINE_MAX) PNC_CHECK(cudaMallocAsync((void**)&scratch, (size_t)n * sizeof(float), stream));
    pn_status st = PN_OK;
    for (int32_t first = 0; first < k && st == PN_OK; first += AFFINE_MAX) {
        affine_args args = {};
        args.k = k - first < AFFINE_MAX ? k - first : AFFINE_MAX;
        args.constant = constant;
        for (int32_t i = 0; i < args.k; i++) {
            args.inputs[i] = inputs[first + i];
            args.weights[i] = weights[first + i];
        }
        const bool last = first + args.k == k;
        const float* acc_in = first == 0 ? nullptr : scratch;
        st = last ? launch_affine_any(in_dtype, out_dtype, args, n, acc_in, out, vec, stream)
                  : launch_affine_any(in_dtype, PN_DTYPE_F32, args, n, acc_in, scratch, vec, stream);
    }
    if (scratch) {
        cudaError_t err = cudaFreeAsync(scratch, stream);
        if (st == PN_OK && err != cudaSuccess) return pnc_cuda_fail(err, "cudaFreeAsync");
    }
    return st;
}

extern "C" PN_API pn_status pn_cuda_affine(int32_t in_dtype, int32_t out_dtype, int64_t n, int32_t k,
                                           const void* const* inputs, const float* weights, float constant,
                                           void* out, pn_cuda_stream stream)
{
    PNC_GUARD_BEGIN
    return affine_checked(in_dtype, out_dtype, n, k, inputs, weights, constant, out, (cudaStream_t)stream);
    PNC_GUARD_END("pn_cuda_affine")
}
