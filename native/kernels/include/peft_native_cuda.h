/*
 * peft_native_cuda.h — the C ABI of libpeft_native_cuda (CUDA kernels, device memory, streams).
 *
 * Same conventions as peft_native.h (whose status codes, dtypes and pn_lowrank_factor it
 * reuses): every export is extern "C", prefixed pn_cuda_, and returns pn_status unless documented
 * otherwise. On failure a thread-local message explains why (the CUDA call, its error name and
 * string); read it with pn_cuda_last_error() on the same thread before the next call. The library
 * never aborts or exits: every CUDA call and every kernel launch is checked and turned into a
 * status.
 *
 * Status mapping of CUDA errors: out of memory -> PN_ERR_OUT_OF_MEMORY; no device, no or too old
 * driver, no kernel image for the device -> PN_ERR_UNSUPPORTED; invalid value ->
 * PN_ERR_INVALID_ARGUMENT; anything else (including a sticky launch failure) -> PN_ERR_INTERNAL.
 *
 * Devices: calls act on the calling thread's current device (pn_cuda_set_device). Pointers named
 * "device" must come from pn_cuda_malloc on that device; host arrays (the list of inputs, the
 * weights, the factor table) are read during the call only.
 *
 * Streams: kernels and pn_cuda_memcpy_d2d are asynchronous on the given stream (NULL = the
 * legacy default stream); a status of PN_OK means the work was queued. Errors that happen while
 * the work runs surface at the next synchronising call (pn_cuda_stream_synchronize, the
 * host<->device copies, pn_cuda_event_elapsed_ms). The host<->device copies are synchronous:
 * they return when the bytes have arrived.
 *
 * Kernels: the same functions, argument rules and rounding as the pn_cpu_ entries of
 * peft_native.h (f32 accumulation, one round-to-nearest-even when storing a 16-bit value, NaN
 * stays NaN), checked the same way before anything is queued. The low-rank merge runs on the
 * tensor cores (wmma, f32 accumulation) when every factor is bf16, or every factor f16: those
 * products are exact in f32, so the result is the same function; other mixes use f32 FMAs.
 */
#ifndef PEFT_NATIVE_CUDA_H
#define PEFT_NATIVE_CUDA_H

#include <stdint.h>

#include "peft_native.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Bumped whenever a signature or struct layout below changes. The managed side refuses a library
 * whose pn_cuda_abi_version() differs from the one it was built against. */
#define PN_CUDA_ABI_VERSION 1

/* Most factors one pn_cuda_lowrank_merge call takes (they travel in the kernel's parameters).
 * Callers with more concatenate them into one f32 factor with the scales folded into B. */
#define PN_CUDA_MAX_FACTORS 64

/* A CUDA stream and a CUDA event (cudaStream_t, cudaEvent_t). NULL stream = the default stream. */
typedef struct pn_cuda_stream_s* pn_cuda_stream;
typedef struct pn_cuda_event_s* pn_cuda_event;

/* One device. struct_size must be set by the caller to sizeof(pn_cuda_device_info). */
typedef struct pn_cuda_device_info {
    uint32_t struct_size;
    int32_t ordinal;
    char name[256];               /* NUL-terminated, e.g. "NVIDIA H100 80GB HBM3" */
    int64_t total_memory;         /* bytes */
    int64_t free_memory;          /* bytes, at the time of the call */
    int32_t compute_major;        /* compute capability, e.g. 9 */
    int32_t compute_minor;        /* e.g. 0 */
    int32_t multiprocessors;
    int32_t memory_bus_width;     /* bits */
    int32_t memory_clock_khz;     /* 0 when the runtime does not report it */
    int32_t runtime_version;      /* CUDA runtime the library was linked with, e.g. 11080 */
    int32_t driver_version;       /* highest CUDA version the driver supports, e.g. 12040 */
    int32_t reserved;
} pn_cuda_device_info;

/* ---- library, devices ---------------------------------------------------------------------- */

/* A version string such as "0.1.0". Never null; static storage. */
PN_API const char* pn_cuda_version(void);

/* PN_CUDA_ABI_VERSION of the library (no status; cannot fail). */
PN_API int32_t pn_cuda_abi_version(void);

/* The message of the last failed call on this thread, or "" if none. Never null. */
PN_API const char* pn_cuda_last_error(void);

/* Number of CUDA devices. With no driver or no device: *count = 0 and PN_ERR_UNSUPPORTED, with
 * the reason in pn_cuda_last_error() (so callers can say why in one line). */
PN_API pn_status pn_cuda_device_count(int32_t* count);

/* Fills *info for device `ordinal` (name, memory, compute capability, versions). */
PN_API pn_status pn_cuda_get_device_info(int32_t ordinal, pn_cuda_device_info* info);

/* Makes `ordinal` the calling thread's current device. */
PN_API pn_status pn_cuda_set_device(int32_t ordinal);

/* ---- memory -------------------------------------------------------------------------------- */

/* Allocates `bytes` (>= 0; 0 gives *ptr = NULL) of device memory, 256-byte aligned. */
PN_API pn_status pn_cuda_malloc(int64_t bytes, void** ptr);

/* Frees device memory from pn_cuda_malloc (NULL is a no-op). Waits for work using it. */
PN_API pn_status pn_cuda_free(void* ptr);

/* Copies host -> device, synchronously (after the work queued on `stream`). */
PN_API pn_status pn_cuda_memcpy_h2d(void* device_dst, const void* host_src, int64_t bytes,
                                    pn_cuda_stream stream);

/* Copies device -> host, synchronously (after the work queued on `stream`). */
PN_API pn_status pn_cuda_memcpy_d2h(void* host_dst, const void* device_src, int64_t bytes,
                                    pn_cuda_stream stream);

/* Copies device -> device, asynchronously on `stream` (the bandwidth probe's copy). */
PN_API pn_status pn_cuda_memcpy_d2d(void* device_dst, const void* device_src, int64_t bytes,
                                    pn_cuda_stream stream);

/* Sets `bytes` bytes of device memory to `value`, asynchronously on `stream`. */
PN_API pn_status pn_cuda_memset(void* device_dst, int32_t value, int64_t bytes,
                                pn_cuda_stream stream);

/* ---- streams and events -------------------------------------------------------------------- */

/* Creates a non-blocking stream on the current device. */
PN_API pn_status pn_cuda_stream_create(pn_cuda_stream* stream);

/* Destroys a stream (NULL is a no-op); queued work still completes. */
PN_API pn_status pn_cuda_stream_destroy(pn_cuda_stream stream);

/* Waits for all work queued on `stream`; reports any error that happened while it ran. */
PN_API pn_status pn_cuda_stream_synchronize(pn_cuda_stream stream);

/* Creates / destroys a timing event. */
PN_API pn_status pn_cuda_event_create(pn_cuda_event* event);
PN_API pn_status pn_cuda_event_destroy(pn_cuda_event event);

/* Records `event` on `stream`. */
PN_API pn_status pn_cuda_event_record(pn_cuda_event event, pn_cuda_stream stream);

/* Waits for `end` and returns the milliseconds between `start` and `end`. */
PN_API pn_status pn_cuda_event_elapsed_ms(pn_cuda_event start, pn_cuda_event end, float* ms);

/* ---- kernels (DESIGN.md section 3; device pointers, asynchronous on `stream`) ---------------- */

/* out[j] = constant + sum_{i<k} weights[i] * inputs[i][j], j < n. `inputs` is a host array of k
 * device pointers, `weights` a host array of k floats. out may be identical to an input when
 * in_dtype == out_dtype. More than 64 inputs: an f32 scratch buffer of n values is used (inputs
 * are still read once and out written once). */
PN_API pn_status pn_cuda_affine(int32_t in_dtype, int32_t out_dtype, int64_t n, int32_t k,
                                const void* const* inputs, const float* weights, float constant,
                                void* out, pn_cuda_stream stream);

/* W += sum_k s_k B_k @ A_k (transpose == 1: W stored in x out gets the transpose), in place, one
 * pass over W. `factors` is a host array of `count` (<= PN_CUDA_MAX_FACTORS) entries whose a and b
 * are device pointers. */
PN_API pn_status pn_cuda_lowrank_merge(int32_t w_dtype, void* w, int64_t out_features,
                                       int64_t in_features, int32_t transpose, int32_t count,
                                       const pn_lowrank_factor* factors, pn_cuda_stream stream);

/* W[i][j] *= l[i] (inverse: *= 1/l[i], the reciprocal rounded to f32 once). An inverse with a
 * zero in l fails with PN_ERR_INVALID_ARGUMENT before W is touched; that check reads l on the
 * device, so an inverse call synchronises `stream`. */
PN_API pn_status pn_cuda_scale_rows(int32_t w_dtype, void* w, int64_t rows, int64_t cols,
                                    int32_t l_dtype, const void* l, int32_t inverse,
                                    pn_cuda_stream stream);

/* W[i][j] *= l[j] (or / l[j]); same rules as pn_cuda_scale_rows. */
PN_API pn_status pn_cuda_scale_cols(int32_t w_dtype, void* w, int64_t rows, int64_t cols,
                                    int32_t l_dtype, const void* l, int32_t inverse,
                                    pn_cuda_stream stream);

/* dtype conversion of n values (f32 <-> f16 <-> bf16, same-dtype copy); dst may be identical to
 * src when both dtypes have the same size. Bit-identical to pn_cpu_convert. */
PN_API pn_status pn_cuda_convert(int32_t src_dtype, const void* src, int32_t dst_dtype,
                                 void* dst, int64_t n, pn_cuda_stream stream);

#ifdef __cplusplus
}
#endif

#endif /* PEFT_NATIVE_CUDA_H */
