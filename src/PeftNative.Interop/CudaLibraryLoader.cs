using System.Runtime.InteropServices;
using System.Text;

namespace PeftNative.Interop;

/// <summary>
/// Finds and loads libpeft_native_cuda the way <see cref="NativeLibraryLoader"/> loads
/// libpeft_native (PEFTNATIVE_CUDA_PATH, runtimes/&lt;rid&gt;/native, the app directory, the
/// system search path), checks its ABI version, and asks it for devices. Never throws while
/// probing; the trace ends up in the failure text. The CUDA driver itself (libcuda.so.1) is
/// loaded by the library's static runtime on first use, so "no driver" shows up as a device
/// count failure with the runtime's reason.
/// </summary>
public static unsafe class CudaLibraryLoader
{
    /// <summary>Environment variable that names an explicit libpeft_native_cuda path.</summary>
    public const string PathVariable = "PEFTNATIVE_CUDA_PATH";

    private static readonly object Gate = new();
    private static readonly StringBuilder Trace = new();
    private static nint s_handle;
    private static bool s_probed;
    private static string? s_failure;

    /// <summary>The loaded library's handle (0 until <see cref="TryEnsureLoaded"/> succeeds).</summary>
    public static nint Handle { get { lock (Gate) return s_failure is null ? s_handle : 0; } }

    /// <summary>Every probe made so far, one per line.</summary>
    public static string LoadTrace { get { lock (Gate) return Trace.ToString(); } }

    /// <summary>True when the library is loaded and its ABI version matches (devices not asked).</summary>
    public static bool TryEnsureLoaded(out string? failure)
    {
        lock (Gate)
        {
            if (!s_probed)
            {
                s_probed = true;
                s_handle = NativeLibraryLoader.ProbeLibrary("peft_native_cuda", Environment.GetEnvironmentVariable(PathVariable), Trace);
                if (s_handle == 0)
                    s_failure = "libpeft_native_cuda was not found. Probes:\n" + Trace;
                else if (!NativeLibrary.TryGetExport(s_handle, "pn_cuda_abi_version", out var export))
                    s_failure = "the loaded library is not libpeft_native_cuda (no pn_cuda_abi_version export). Probes:\n" + Trace;
                else
                {
                    int abi = ((delegate* unmanaged<int>)export)();
                    if (abi != CudaNativeMethods.AbiVersion)
                        s_failure = $"libpeft_native_cuda has ABI version {abi}, this assembly needs {CudaNativeMethods.AbiVersion}. Probes:\n{Trace}";
                }
            }
            failure = s_failure;
            return s_failure is null;
        }
    }

    /// <summary>
    /// True when the library loads and sees at least one device; otherwise <paramref name="reason"/>
    /// says why (the loader's failure, or the CUDA runtime's reason for reporting no device).
    /// </summary>
    public static bool TryGetDeviceCount(out int count, out string? reason)
    {
        count = 0;
        if (!TryEnsureLoaded(out reason))
            return false;
        int n = 0;
        NativeStatus status = CudaNativeMethods.pn_cuda_device_count(&n);
        if (status != NativeStatus.Ok || n < 1)
        {
            reason = LastError();
            return false;
        }
        count = n;
        return true;
    }

    /// <summary>Throws <see cref="DllNotFoundException"/> with the probe trace when the library is unusable.</summary>
    public static void EnsureLoaded()
    {
        if (!TryEnsureLoaded(out var failure))
            throw new DllNotFoundException(failure);
    }

    /// <summary>Name, memory and compute capability of device <paramref name="ordinal"/>.</summary>
    public static CudaDeviceInfo GetDeviceInfo(int ordinal)
    {
        EnsureLoaded();
        CudaDeviceInfo info = default;
        info.StructSize = (uint)sizeof(CudaDeviceInfo);
        ThrowIfFailed(CudaNativeMethods.pn_cuda_get_device_info(ordinal, &info));
        return info;
    }

    /// <summary>Maps a status to an exception carrying the native message; returns on <see cref="NativeStatus.Ok"/>.</summary>
    public static void ThrowIfFailed(NativeStatus status)
    {
        if (status == NativeStatus.Ok)
            return;
        throw NativeLibraryLoader.StatusException(status, LastError());
    }

    /// <summary>The native thread-local message of the last failure on this thread.</summary>
    public static string LastError()
    {
        var p = CudaNativeMethods.pn_cuda_last_error();
        return p == null ? "" : Marshal.PtrToStringUTF8((nint)p) ?? "";
    }
}
