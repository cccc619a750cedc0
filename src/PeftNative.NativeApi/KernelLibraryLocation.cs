using System.Runtime.InteropServices;
using PeftNative.Interop;

namespace PeftNative.NativeApi;

/// <summary>
/// Points the kernel loader (<see cref="NativeLibraryLoader"/>) at the libpeft_native.so published
/// beside libpeftnative.so. In a NativeAOT shared library AppContext.BaseDirectory is the host
/// executable's directory, which the loader probes, not this library's. So, unless the caller set
/// PEFTNATIVE_NATIVE_PATH, the kernels' path is put there — in this library's own copy of the
/// environment (.NET on Unix does not call setenv, the host process never sees it).
/// </summary>
internal static unsafe partial class KernelLibraryLocation
{
    private static readonly Lock Gate = new();
    private static bool s_configured;

    /// <summary>Runs once, before the first operation; never throws (the loader's own probes still apply).</summary>
    public static void EnsureConfigured()
    {
        lock (Gate)
        {
            if (s_configured)
                return;
            s_configured = true;
            try
            {
                if (!string.IsNullOrEmpty(Environment.GetEnvironmentVariable(NativeLibraryLoader.PathVariable)) || OwnDirectory() is not { } dir)
                    return;
                string[] candidates =
                [
                    Path.Combine(dir, "runtimes", RuntimeInformation.RuntimeIdentifier, "native", "libpeft_native.so"),
                    Path.Combine(dir, "libpeft_native.so"),
                ];
                if (candidates.FirstOrDefault(File.Exists) is { } found)
                    Environment.SetEnvironmentVariable(NativeLibraryLoader.PathVariable, found);
            }
#pragma warning disable CA1031 // best effort: without it the loader probes as usual
            catch (Exception)
#pragma warning restore CA1031
            {
            }
        }
    }

    /// <summary>The directory of the shared object holding this code (Linux), from dladdr on one of its exports.</summary>
    private static string? OwnDirectory()
    {
        if (!OperatingSystem.IsLinux())
            return null;
        DlInfo info;
        nint self = (nint)(delegate* unmanaged<byte*>)&Exports.PeftnativeVersion;
        if (dladdr(self, &info) == 0 || info.FileName == 0)
            return null;
        return Marshal.PtrToStringUTF8(info.FileName) is { Length: > 0 } file ? Path.GetDirectoryName(Path.GetFullPath(file)) : null;
    }

    /// <summary>int dladdr(const void* addr, Dl_info* info); non-zero on success.</summary>
    [LibraryImport(PosixMethods.LibraryName)]
    private static partial int dladdr(nint address, DlInfo* info);

    /// <summary>glibc's Dl_info.</summary>
    [StructLayout(LayoutKind.Sequential)]
    private struct DlInfo
    {
        public nint FileName;
        public nint FileBase;
        public nint SymbolName;
        public nint SymbolAddress;
    }
}
