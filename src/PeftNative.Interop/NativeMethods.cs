using System.Runtime.InteropServices;

namespace PeftNative.Interop;

/// <summary>
/// The C ABI of libpeft_native (native/kernels/include/peft_native.h), one declaration per
/// export, named exactly as in C. Callers validate first; these return the raw status, and
/// <see cref="NativeLibraryLoader.ThrowIfFailed"/> turns it into an exception.
/// </summary>
public static unsafe partial class NativeMethods
{
    /// <summary>File name the loader resolves (see <see cref="NativeLibraryLoader"/>).</summary>
    public const string LibraryName = "peft_native";

    /// <summary>The ABI version this assembly was built against (PN_ABI_VERSION).</summary>
    public const int AbiVersion = 1;

    /// <summary>Version string, static storage.</summary>
    [LibraryImport(LibraryName)]
    public static partial byte* pn_version();

    /// <summary>PN_ABI_VERSION of the loaded library.</summary>
    [LibraryImport(LibraryName)]
    public static partial int pn_abi_version();

    /// <summary>Thread-local message of the last failure, "" if none.</summary>
    [LibraryImport(LibraryName)]
    public static partial byte* pn_last_error();

    /// <summary>Fills the capability struct.</summary>
    [LibraryImport(LibraryName)]
    public static partial NativeStatus pn_get_capabilities(NativeCapabilities* caps);

    /// <summary>Forces an instruction-set level (-1 = best).</summary>
    [LibraryImport(LibraryName)]
    public static partial NativeStatus pn_set_isa(int isa);

    /// <summary>out = constant + sum_i weights[i] * inputs[i].</summary>
    [LibraryImport(LibraryName)]
    public static partial NativeStatus pn_cpu_affine(int inDType, int outDType, long n, int k,
        void** inputs, float* weights, float constant, void* output, int threads);

    /// <summary>PN_AFFINE_STREAM: non-temporal stores whatever the output's size.</summary>
    public const uint AffineStream = 1;

    /// <summary>
    /// out = constant + sum_i weights[i] * inputs[i] (pn_cpu_affine_ex; pn_cpu_affine is this with flags 0 and no report):
    /// flags <see cref="AffineStream"/> or 0; nonFinite null, or set to 1 when a stored element is NaN or ±Inf.
    /// </summary>
    [LibraryImport(LibraryName)]
    public static partial NativeStatus pn_cpu_affine_ex(int inDType, int outDType, long n, int k,
        void** inputs, float* weights, float constant, void* output, int threads, uint flags, int* nonFinite);

    /// <summary>W += sum_k s_k B_k A_k (transpose for fan_in_fan_out), in place.</summary>
    [LibraryImport(LibraryName)]
    public static partial NativeStatus pn_cpu_lowrank_merge(int wDType, void* w, long outFeatures,
        long inFeatures, int transpose, int count, NativeLowRankFactor* factors, int threads);

    /// <summary>W[i][j] *= l[i] (or /=), in place.</summary>
    [LibraryImport(LibraryName)]
    public static partial NativeStatus pn_cpu_scale_rows(int wDType, void* w, long rows, long cols,
        int lDType, void* l, int inverse, int threads);

    /// <summary>W[i][j] *= l[j] (or /=), in place.</summary>
    [LibraryImport(LibraryName)]
    public static partial NativeStatus pn_cpu_scale_cols(int wDType, void* w, long rows, long cols,
        int lDType, void* l, int inverse, int threads);

    /// <summary>dtype conversion of n values.</summary>
    [LibraryImport(LibraryName)]
    public static partial NativeStatus pn_cpu_convert(int srcDType, void* src, int dstDType,
        void* dst, long n, int threads);

    /// <summary>y (m x n) [+]= x (m x k) . W^T (W stored n x k), or x . W (W stored k x n when weightIsInputMajor = 1).</summary>
    [LibraryImport(LibraryName)]
    public static partial NativeStatus pn_cpu_matmul(long m, long n, long k, float* x, int wDType, void* w,
        int weightIsInputMajor, float* y, int accumulate, int threads);

    /// <summary>Best single-pass seconds of an in-place read-modify-write over the buffer.</summary>
    [LibraryImport(LibraryName)]
    public static partial NativeStatus pn_probe_memory_rmw(void* buffer, long bytes, int repeats, int threads, double* seconds);

    /// <summary>f32 FMA throughput with the widest vectors, GFLOP/s.</summary>
    [LibraryImport(LibraryName)]
    public static partial NativeStatus pn_probe_fma_f32(int milliseconds, int threads, double* gflops);

    /// <summary>bf16 dot-product throughput (VDPBF16PS where present), GFLOP/s.</summary>
    [LibraryImport(LibraryName)]
    public static partial NativeStatus pn_probe_bf16_dot(int milliseconds, int threads, double* gflops);
}
