/* runtime.cu — version, devices, device memory, streams and events: thin checked wrappers over
 * the CUDA runtime (linked statically, so the only run-time dependency is the driver). */
#include <string.h>

#include "pnc_internal.cuh"

extern "C" PN_API const char* pn_cuda_version(void) { return "0.1.0"; }

extern "C" PN_API int32_t pn_cuda_abi_version(void) { return PN_CUDA_ABI_VERSION; }

extern "C" PN_API pn_status pn_cuda_device_count(int32_t* count)
{
    PNC_GUARD_BEGIN
    if (!count) return pnc_fail(PN_ERR_INVALID_ARGUMENT, "pn_cuda_device_count: count is null");
    *count = 0;
    int n = 0;
    cudaError_t err = cudaGetDeviceCount(&n);
    if (err != cudaSuccess) {
        (void)cudaGetLastError(); /* not sticky: clear it so later calls start clean */
        return pnc_cuda_fail(err, "cudaGetDeviceCount");
    }
    if (n == 0) return pnc_fail(PN_ERR_UNSUPPORTED, "pn_cuda_device_count: the driver reports no CUDA device");
    *count = n;
    return PN_OK;
    PNC_GUARD_END("pn_cuda_device_count")
}

extern "C" PN_API pn_status pn_cuda_get_device_info(int32_t ordinal, pn_cuda_device_info* info)
{
    PNC_GUARD_BEGIN
    if (!info) return pnc_fail(PN_ERR_INVALID_ARGUMENT, "pn_cuda_get_device_info: info is null");
    if (info->struct_size < sizeof(pn_cuda_device_info))
        return pnc_fail(PN_ERR_INVALID_ARGUMENT, "pn_cuda_get_device_info: struct_size %u < %u",
                        info->struct_size, (unsigned)sizeof(pn_cuda_device_info));
    cudaDeviceProp prop;
    PNC_CHECK(cudaGetDeviceProperties(&prop, ordinal));
    int current = 0;
    PNC_CHECK(cudaGetDevice(&current));
    PNC_CHECK(cudaSetDevice(ordinal));
    size_t free_bytes = 0, total_bytes = 0;
    cudaError_t mem = cudaMemGetInfo(&free_bytes, &total_bytes);
    PNC_CHECK(cudaSetDevice(current));
    if (mem != cudaSuccess) return pnc_cuda_fail(mem, "cudaMemGetInfo");
    int clock_khz = 0, runtime = 0, driver = 0;
    if (cudaDeviceGetAttribute(&clock_khz, cudaDevAttrMemoryClockRate, ordinal) != cudaSuccess) {
        (void)cudaGetLastError(); /* optional figure */
        clock_khz = 0;
    }
    PNC_CHECK(cudaRuntimeGetVersion(&runtime));
    PNC_CHECK(cudaDriverGetVersion(&driver));

    uint32_t size = info->struct_size;
    memset(info, 0, sizeof *info);
    info->struct_size = size;
    info->ordinal = ordinal;
    strncpy(info->name, prop.name, sizeof info->name - 1);
    info->total_memory = (int64_t)total_bytes;
    info->free_memory = (int64_t)free_bytes;
    info->compute_major = prop.major;
    info->compute_minor = prop.minor;
    info->multiprocessors = prop.multiProcessorCount;
    info->memory_bus_width = prop.memoryBusWidth;
    info->memory_clock_khz = clock_khz;
    info->runtime_version = runtime;
    info->driver_version = driver;
    return PN_OK;
    PNC_GUARD_END("pn_cuda_get_device_info")
}

extern "C" PN_API pn_status pn_cuda_set_device(int32_t ordinal)
{
    PNC_GUARD_BEGIN
    PNC_CHECK(cudaSetDevice(ordinal));
    return PN_OK;
    PNC_GUARD_END("pn_cuda_set_device")
}

extern "C" PN_API pn_status pn_cuda_malloc(int64_t bytes, void** ptr)
{
    PNC_GUARD_BEGIN
    if (!ptr) return pnc_fail(PN_ERR_INVALID_ARGUMENT, "pn_cuda_malloc: ptr is null");
    *ptr = nullptr;
    if (bytes < 0) return pnc_fail(PN_ERR_INVALID_ARGUMENT, "pn_cuda_malloc: bytes is negative (%lld)", (long long)bytes);
    if (bytes == 0) return PN_OK;
    cudaError_t err = cudaMalloc(ptr, (size_t)bytes);
    if (err != cudaSuccess) {
        *ptr = nullptr;
        (void)cudaGetLastError(); /* out of memory is not sticky */
        return pnc_fail(err == cudaErrorMemoryAllocation ? PN_ERR_OUT_OF_MEMORY : PN_ERR_INTERNAL,
                        "cudaMalloc of %lld bytes failed: %s: %s", (long long)bytes,
                        cudaGetErrorName(err), cudaGetErrorString(err));
    }
    return PN_OK;
    PNC_GUARD_END("pn_cuda_malloc")
}

extern "C" PN_API pn_status pn_cuda_free(void* ptr)
{
    PNC_GUARD_BEGIN
    if (!ptr) return PN_OK;
    PNC_CHECK(cudaFree(ptr));
    return PN_OK;
    PNC_GUARD_END("pn_cuda_free")
}

static pn_status copy_checked(const char* fn, void* dst, const void* src, int64_t bytes,
                              cudaMemcpyKind kind, pn_cuda_stream stream, bool wait)
{
    if (bytes < 0) return pnc_fail(PN_ERR_INVALID_ARGUMENT, "%s: bytes is negative (%lld)", fn, (long long)bytes);
    if (bytes == 0) return PN_OK;
    if (!dst || !src) return pnc_fail(PN_ERR_INVALID_ARGUMENT, "%s: %s is null", fn, dst ? "src" : "dst");
    if (pnc_overlaps(dst, bytes, src, bytes) && kind == cudaMemcpyDeviceToDevice)
        return pnc_fail(PN_ERR_INVALID_ARGUMENT, "%s: dst overlaps src", fn);
    cudaStream_t s = (cudaStream_t)stream;
    PNC_CHECK(cudaMemcpyAsync(dst, src, (size_t)bytes, kind, s));
    if (wait) PNC_CHECK(cudaStreamSynchronize(s));
    return PN_OK;
}

extern "C" PN_API pn_status pn_cuda_memcpy_h2d(void* device_dst, const void* host_src, int64_t bytes,
                                               pn_cuda_stream stream)
{
    PNC_GUARD_BEGIN
    return copy_checked("pn_cuda_memcpy_h2d", device_dst, host_src, bytes, cudaMemcpyHostToDevice, stream, true);
    PNC_GUARD_END("pn_cuda_memcpy_h2d")
}

extern "C" PN_API pn_status pn_cuda_memcpy_d2h(void* host_dst, const void* device_src, int64_t bytes,
                                               pn_cuda_stream stream)
{
    PNC_GUARD_BEGIN
    return copy_checked("pn_cuda_memcpy_d2h", host_dst, device_src, bytes, cudaMemcpyDeviceToHost, stream, true);
    PNC_GUARD_END("pn_cuda_memcpy_d2h")
}

extern "C" PN_API pn_status pn_cuda_memcpy_d2d(void* device_dst, const void* device_src, int64_t bytes,
                                               pn_cuda_stream stream)
{
    PNC_GUARD_BEGIN
    return copy_checked("pn_cuda_memcpy_d2d", device_dst, device_src, bytes, cudaMemcpyDeviceToDevice, stream, false);
    PNC_GUARD_END("pn_cuda_memcpy_d2d")
}

extern "C" PN_API pn_status pn_cuda_memset(void* device_dst, int32_t value, int64_t bytes, pn_cuda_stream stream)
{
    PNC_GUARD_BEGIN
    if (bytes < 0) return pnc_fail(PN_ERR_INVALID_ARGUMENT, "pn_cuda_memset: bytes is negative (%lld)", (long long)bytes);
    if (bytes == 0) return PN_OK;
    if (!device_dst) return pnc_fail(PN_ERR_INVALID_ARGUMENT, "pn_cuda_memset: dst is null");
    PNC_CHECK(cudaMemsetAsync(device_dst, value, (size_t)bytes, (cudaStream_t)stream));
    return PN_OK;
    PNC_GUARD_END("pn_cuda_memset")
}

extern "C" PN_API pn_status pn_cuda_stream_create(pn_cuda_stream* stream)
{
    PNC_GUARD_BEGIN
    if (!stream) return pnc_fail(PN_ERR_INVALID_ARGUMENT, "pn_cuda_stream_create: stream is null");
    *stream = nullptr;
    cudaStream_t s = nullptr;
    PNC_CHECK(cudaStreamCreateWithFlags(&s, cudaStreamNonBlocking));
    *stream = (pn_cuda_stream)s;
    return PN_OK;
    PNC_GUARD_END("pn_cuda_stream_create")
}

extern "C" PN_API pn_status pn_cuda_stream_destroy(pn_cuda_stream stream)
{
    PNC_GUARD_BEGIN
    if (!stream) return PN_OK;
    PNC_CHECK(cudaStreamDestroy((cudaStream_t)stream));
    return PN_OK;
    PNC_GUARD_END("pn_cuda_stream_destroy")
}

extern "C" PN_API pn_status pn_cuda_stream_synchronize(pn_cuda_stream stream)
{
    PNC_GUARD_BEGIN
    PNC_CHECK(cudaStreamSynchronize((cudaStream_t)stream));
    return PN_OK;
    PNC_GUARD_END("pn_cuda_stream_synchronize")
}

extern "C" PN_API pn_status pn_cuda_event_create(pn_cuda_event* event)
{
    PNC_GUARD_BEGIN
    if (!event) return pnc_fail(PN_ERR_INVALID_ARGUMENT, "pn_cuda_event_create: event is null");
    *event = nullptr;
    cudaEvent_t e = nullptr;
    PNC_CHECK(cudaEventCreate(&e));
    *event = (pn_cuda_event)e;
    return PN_OK;
    PNC_GUARD_END("pn_cuda_event_create")
}

extern "C" PN_API pn_status pn_cuda_event_destroy(pn_cuda_event event)
{
    PNC_GUARD_BEGIN
    if (!event) return PN_OK;
    PNC_CHECK(cudaEventDestroy((cudaEvent_t)event));
    return PN_OK;
    PNC_GUARD_END("pn_cuda_event_destroy")
}

extern "C" PN_API pn_status pn_cuda_event_record(pn_cuda_event event, pn_cuda_stream stream)
{
    PNC_GUARD_BEGIN
    if (!event) return pnc_fail(PN_ERR_INVALID_ARGUMENT, "pn_cuda_event_record: event is null");
    PNC_CHECK(cudaEventRecord((cudaEvent_t)event, (cudaStream_t)stream));
    return PN_OK;
    PNC_GUARD_END("pn_cuda_event_record")
}

extern "C" PN_API pn_status pn_cuda_event_elapsed_ms(pn_cuda_event start, pn_cuda_event end, float* ms)
{
    PNC_GUARD_BEGIN
    if (!start || !end || !ms) return pnc_fail(PN_ERR_INVALID_ARGUMENT, "pn_cuda_event_elapsed_ms: null argument");
    PNC_CHECK(cudaEventSynchronize((cudaEvent_t)end));
    PNC_CHECK(cudaEventElapsedTime(ms, (cudaEvent_t)start, (cudaEvent_t)end));
    return PN_OK;
    PNC_GUARD_END("pn_cuda_event_elapsed_ms")
}
