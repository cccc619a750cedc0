/* errors.cu — the thread-local last-error message and the CUDA error -> status mapping. */
#include <stdarg.h>
#include <stdio.h>

#include "pnc_internal.cuh"

static thread_local char g_last_error[1024];

pn_status pnc_fail(pn_status status, const char* fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(g_last_error, sizeof g_last_error, fmt, ap);
    va_end(ap);
    return status;
}

pn_status pnc_cuda_fail(cudaError_t err, const char* what)
{
    pn_status status;
    switch (err) {
    case cudaErrorMemoryAllocation:
        status = PN_ERR_OUT_OF_MEMORY;
        break;
    case cudaErrorNoDevice:
    case cudaErrorInsufficientDriver:
    case cudaErrorNoKernelImageForDevice:
    case cudaErrorInvalidDevice:
    case cudaErrorUnsupportedPtxVersion:
    case cudaErrorDevicesUnavailable:
        status = PN_ERR_UNSUPPORTED;
        break;
    case cudaErrorInvalidValue:
    case cudaErrorInvalidDevicePointer:
        status = PN_ERR_INVALID_ARGUMENT;
        break;
    default:
        status = PN_ERR_INTERNAL;
        break;
    }
    return pnc_fail(status, "%s failed: %s: %s", what, cudaGetErrorName(err), cudaGetErrorString(err));
}

extern "C" PN_API const char* pn_cuda_last_error(void) { return g_last_error; }
