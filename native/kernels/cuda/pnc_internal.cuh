/* pnc_internal.cuh — what every .cu file of libpeft_native_cuda shares: the error policy (status +
 * thread-local message, never an abort), argument checks, and the device-side dtype conversions
 * and 8-wide vector loads/stores (bit-identical to cpu/pn_internal.h). */
#ifndef PNC_INTERNAL_CUH
#define PNC_INTERNAL_CUH

#include <cuda_fp16.h>
#include <cuda_runtime.h>
#include <stdint.h>

#include "peft_native_cuda.h"

/* ---- errors (errors.cu) -------------------------------------------------------------------- */

/* Formats the thread-local message and returns `status`. */
pn_status pnc_fail(pn_status status, const char* fmt, ...)
#if defined(__GNUC__) || defined(__clang__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

/* Maps a CUDA error to a status and records "<what>: <cudaErrorName>: <string>". */
pn_status pnc_cuda_fail(cudaError_t err, const char* what);

/* Every CUDA runtime call goes through this: on error, return its status from the caller. */
#define PNC_CHECK(call)                                                                       \
    do {                                                                                      \
        cudaError_t pnc_err_ = (call);                                                        \
        if (pnc_err_ != cudaSuccess) return pnc_cuda_fail(pnc_err_, #call);                  \
    } while (0)

/* After every launch: the launch configuration error (or a sticky earlier error). */
#define PNC_CHECK_LAUNCH(name)                                                                \
    do {                                                                                      \
        cudaError_t pnc_err_ = cudaGetLastError();                                            \
        if (pnc_err_ != cudaSuccess) return pnc_cuda_fail(pnc_err_, "launch of " name);      \
    } while (0)

/* Every exported body is wrapped in this: a C++ exception (none is expected: the CUDA runtime
 * reports errors by code) becomes PN_ERR_INTERNAL instead of escaping into the caller's process. */
#define PNC_GUARD_BEGIN try {
#define PNC_GUARD_END(fn)                                                                     \
    }                                                                                         \
    catch (...) { return pnc_fail(PN_ERR_INTERNAL, "%s: unexpected C++ exception", fn); }

/* ---- argument checks ----------------------------------------------------------------------- */

inline bool pnc_valid_dtype(int32_t dt)
{
    return dt == PN_DTYPE_F32 || dt == PN_DTYPE_F16 || dt == PN_DTYPE_BF16;
}

inline int64_t pnc_dtype_size(int32_t dt) { return dt == PN_DTYPE_F32 ? 4 : 2; }

/* rows * cols * element size in bytes, or -1 on overflow. */
inline int64_t pnc_bytes_of(int64_t rows, int64_t cols, int32_t dt)
{
    int64_t n, b;
    if (__builtin_mul_overflow(rows, cols, &n)) return -1;
    if (__builtin_mul_overflow(n, pnc_dtype_size(dt), &b)) return -1;
    return b;
}

/* [a, a + na) and [b, b + nb) share a byte (device addresses are plain integers here). */
inline bool pnc_overlaps(const void* a, int64_t na, const void* b, int64_t nb)
{
    if (na <= 0 || nb <= 0 || !a || !b) return false;
    uintptr_t a0 = (uintptr_t)a, b0 = (uintptr_t)b;
    return a0 < b0 + (uintptr_t)nb && b0 < a0 + (uintptr_t)na;
}

/* 16-byte vector access to element index `j` of rows with leading dimension `ld` is aligned. */
inline bool pnc_vec_ok(const void* p, int64_t ld, int32_t dt)
{
    return ((uintptr_t)p % 16u) == 0 && ld % (16 / pnc_dtype_size(dt)) == 0;
}

/* Blocks for a grid-stride loop over `items`, capped so huge inputs stay a valid grid. */
inline unsigned pnc_blocks(int64_t items, int threads)
{
    int64_t b = (items + threads - 1) / threads;
    if (b < 1) b = 1;
    if (b > 65535LL * 16) b = 65535LL * 16;
    return (unsigned)b;
}

/* ---- device conversions (the rules of cpu/pn_internal.h) ----------------------------------- */

__device__ __forceinline__ float pnc_bf16_to_f32(uint16_t h)
{
    uint32_t u = (uint32_t)h << 16;
    if ((u & 0x7FFFFFFFu) > 0x7F800000u) u |= 0x00400000u; /* quiet a NaN */
    return __uint_as_float(u);
}

__device__ __forceinline__ uint16_t pnc_f32_to_bf16(float f)
{
    uint32_t u = __float_as_uint(f);
    if ((u & 0x7FFFFFFFu) > 0x7F800000u) return (uint16_t)((u >> 16) | 0x40u);
    return (uint16_t)((u + 0x7FFFu + ((u >> 16) & 1u)) >> 16);
}

__device__ __forceinline__ float pnc_f16_to_f32(uint16_t h)
{
    /* The hardware conversion is exact (subnormals, Inf); only a NaN's quieting is spelled out. */
    if ((h & 0x7C00u) == 0x7C00u && (h & 0x3FFu))
        return __uint_as_float(((uint32_t)(h & 0x8000u) << 16) | 0x7FC00000u | ((uint32_t)(h & 0x3FFu) << 13));
    return __half2float(__ushort_as_half(h));
}

__device__ __forceinline__ uint16_t pnc_f32_to_f16(float f)
{
    /* cvt.rn.f16.f32 rounds to nearest even with overflow to Inf, as the CPU code; a NaN keeps
     * its sign and top payload bits (the VCVTPS2PH rule) instead of becoming the canonical NaN. */
    uint32_t u = __float_as_uint(f);
    if ((u & 0x7FFFFFFFu) > 0x7F800000u)
        return (uint16_t)(((u >> 16) & 0x8000u) | 0x7E00u | ((u >> 13) & 0x3FFu));
    return __half_as_ushort(__float2half_rn(f));
}

template <int DT> struct pnc_dtype;
template <> struct pnc_dtype<PN_DTYPE_F32> { typedef float storage; };
template <> struct pnc_dtype<PN_DTYPE_F16> { typedef uint16_t storage; };
template <> struct pnc_dtype<PN_DTYPE_BF16> { typedef uint16_t storage; };

template <int DT> __device__ __forceinline__ float pnc_load(const void* p, int64_t i)
{
    if (DT == PN_DTYPE_F32) return ((const float*)p)[i];
    if (DT == PN_DTYPE_F16) return pnc_f16_to_f32(((const uint16_t*)p)[i]);
    return pnc_bf16_to_f32(((const uint16_t*)p)[i]);
}

template <int DT> __device__ __forceinline__ void pnc_store(void* p, int64_t i, float v)
{
    if (DT == PN_DTYPE_F32) ((float*)p)[i] = v;
    else if (DT == PN_DTYPE_F16) ((uint16_t*)p)[i] = pnc_f32_to_f16(v);
    else ((uint16_t*)p)[i] = pnc_f32_to_bf16(v);
}

/* A runtime dtype (factors of mixed dtypes). */
__device__ __forceinline__ float pnc_load_any(int32_t dt, const void* p, int64_t i)
{
    if (dt == PN_DTYPE_F32) return pnc_load<PN_DTYPE_F32>(p, i);
    if (dt == PN_DTYPE_F16) return pnc_load<PN_DTYPE_F16>(p, i);
    return pnc_load<PN_DTYPE_BF16>(p, i);
}

/* Eight consecutive values at element i (16-byte aligned): one or two 16-byte loads. */
template <int DT> __device__ __forceinline__ void pnc_load8(const void* p, int64_t i, float v[8])
{
    if (DT == PN_DTYPE_F32) {
        const float4* q = (const float4*)((const float*)p + i);
        float4 x = q[0], y = q[1];
        v[0] = x.x; v[1] = x.y; v[2] = x.z; v[3] = x.w;
        v[4] = y.x; v[5] = y.y; v[6] = y.z; v[7] = y.w;
    } else {
        uint4 x = *(const uint4*)((const uint16_t*)p + i);
        uint32_t w[4] = {x.x, x.y, x.z, x.w};
#pragma unroll
        for (int t = 0; t < 4; t++) {
            uint16_t lo = (uint16_t)(w[t] & 0xFFFFu), hi = (uint16_t)(w[t] >> 16);
            v[2 * t] = DT == PN_DTYPE_F16 ? pnc_f16_to_f32(lo) : pnc_bf16_to_f32(lo);
            v[2 * t + 1] = DT == PN_DTYPE_F16 ? pnc_f16_to_f32(hi) : pnc_bf16_to_f32(hi);
        }
    }
}

template <int DT> __device__ __forceinline__ void pnc_store8(void* p, int64_t i, const float v[8])
{
    if (DT == PN_DTYPE_F32) {
        float4* q = (float4*)((float*)p + i);
        q[0] = make_float4(v[0], v[1], v[2], v[3]);
        q[1] = make_float4(v[4], v[5], v[6], v[7]);
    } else {
        uint32_t w[4];
#pragma unroll
        for (int t = 0; t < 4; t++) {
            uint16_t lo = DT == PN_DTYPE_F16 ? pnc_f32_to_f16(v[2 * t]) : pnc_f32_to_bf16(v[2 * t]);
            uint16_t hi = DT == PN_DTYPE_F16 ? pnc_f32_to_f16(v[2 * t + 1]) : pnc_f32_to_bf16(v[2 * t + 1]);
            w[t] = (uint32_t)lo | ((uint32_t)hi << 16);
        }
        *(uint4*)((uint16_t*)p + i) = make_uint4(w[0], w[1], w[2], w[3]);
    }
}

/* Calls f.template operator()<DT>() for a runtime dtype (templates per dtype, chosen once). */
#define PNC_DISPATCH_DTYPE(dt, DTNAME, ...)                                                   \
    switch (dt) {                                                                             \
    case PN_DTYPE_F32: { constexpr int DTNAME = PN_DTYPE_F32; __VA_ARGS__; break; }          \
    case PN_DTYPE_F16: { constexpr int DTNAME = PN_DTYPE_F16; __VA_ARGS__; break; }          \
    default: { constexpr int DTNAME = PN_DTYPE_BF16; __VA_ARGS__; break; }                   \
    }

#endif /* PNC_INTERNAL_CUH */
