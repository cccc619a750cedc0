using System.Runtime.InteropServices;

namespace PeftNative.Interop;

/// <summary>
/// The C ABI of libpeft_native_cuda (native/kernels/include/peft_native_cuda.h), one declaration
/// per export, named exactly as in C. Device memory, streams and events have their create and
/// release imports beside their <see cref="SafeHandle"/> types (CudaDeviceMemoryHandle.cs,
/// CudaStreamHandle.cs, CudaEventHandle.cs). Callers validate first; these return the raw status,
/// and <see cref="CudaLibraryLoader.ThrowIfFailed"/> turns it into an exception.
/// </summary>
public static unsafe partial class CudaNativeMethods
{
    /// <summary>File name the loader resolves (see <see cref="CudaLibraryLoader"/>).</summary>
    public const string LibraryName = "peft_native_cuda";

    /// <summary>The ABI version this assembly was built against (PN_CUDA_ABI_VERSION).</summary>
    public const int AbiVersion = 1;

    /// <summary>Most factors one merge call takes (PN_CUDA_MAX_FACTORS).</summary>
    public const int MaxFactors = 64;

    /// <summary>Version string, static storage.</summary>
    [LibraryImport(LibraryName)]
    public static partial byte* pn_cuda_version();

    /// <summary>PN_CUDA_ABI_VERSION of the loaded library.</summary>
    [LibraryImport(LibraryName)]
    public static partial int pn_cuda_abi_version();

    /// <summary>Thread-local message of the last failure, "" if none.</summary>
    [LibraryImport(LibraryName)]
    public static partial byte* pn_cuda_last_error();

    /// <summary>Number of CUDA devices (Unsupported with the reason when there is none).</summary>
    [LibraryImport(LibraryName)]
    public static partial NativeStatus pn_cuda_device_count(int* count);

    /// <summary>Name, memory and compute capability of one device.</summary>
    [LibraryImport(LibraryName)]
    public static partial NativeStatus pn_cuda_get_device_info(int ordinal, CudaDeviceInfo* info);

    /// <summary>Makes a device current on the calling thread.</summary>
    [LibraryImport(LibraryName)]
    public static partial NativeStatus pn_cuda_set_device(int ordinal);

    /// <summary>Host to device copy, synchronous.</summary>
    [LibraryImport(LibraryName)]
    public static partial NativeStatus pn_cuda_memcpy_h2d(nint deviceDst, void* hostSrc, long bytes, nint stream);

    /// <summary>Device to host copy, synchronous.</summary>
    [LibraryImport(LibraryName)]
    public static partial NativeStatus pn_cuda_memcpy_d2h(void* hostDst, nint deviceSrc, long bytes, nint stream);

    /// <summary>Device to device copy, asynchronous on the stream.</summary>
    [LibraryImport(LibraryName)]
    public static partial NativeStatus pn_cuda_memcpy_d2d(nint deviceDst, nint deviceSrc, long bytes, nint stream);

    /// <summary>Sets device bytes, asynchronous on the stream.</summary>
    [LibraryImport(LibraryName)]
    public static partial NativeStatus pn_cuda_memset(nint deviceDst, int value, long bytes, nint stream);

    /// <summary>Waits for the work queued on a stream.</summary>
    [LibraryImport(LibraryName)]
    public static partial NativeStatus pn_cuda_stream_synchronize(nint stream);

    /// <summary>Records an event on a stream.</summary>
    [LibraryImport(LibraryName)]
    public static partial NativeStatus pn_cuda_event_record(nint cudaEvent, nint stream);

    /// <summary>Milliseconds between two recorded events (waits for the second).</summary>
    [LibraryImport(LibraryName)]
    public static partial NativeStatus pn_cuda_event_elapsed_ms(nint start, nint end, float* ms);

    /// <summary>out = constant + sum_i weights[i] * inputs[i] (device pointers, host arrays).</summary>
    [LibraryImport(LibraryName)]
    public static partial NativeStatus pn_cuda_affine(int inDType, int outDType, long n, int k,
        nint* inputs, float* weights, float constant, nint output, nint stream);

    /// <summary>W += sum_k s_k B_k A_k (transpose for fan_in_fan_out), in place on the device.</summary>
    [LibraryImport(LibraryName)]
    public static partial NativeStatus pn_cuda_lowrank_merge(int wDType, nint w, long outFeatures,
        long inFeatures, int transpose, int count, NativeLowRankFactor* factors, nint stream);

    /// <summary>W[i][j] *= l[i] (or /=), in place on the device.</summary>
    [LibraryImport(LibraryName)]
    public static partial NativeStatus pn_cuda_scale_rows(int wDType, nint w, long rows, long cols,
        int lDType, nint l, int inverse, nint stream);

    /// <summary>W[i][j] *= l[j] (or /=), in place on the device.</summary>
    [LibraryImport(LibraryName)]
    public static partial NativeStatus pn_cuda_scale_cols(int wDType, nint w, long rows, long cols,
        int lDType, nint l, int inverse, nint stream);

    /// <summary>dtype conversion of n values on the device.</summary>
    [LibraryImport(LibraryName)]
    public static partial NativeStatus pn_cuda_convert(int srcDType, nint src, int dstDType, nint dst, long n, nint stream);
}
