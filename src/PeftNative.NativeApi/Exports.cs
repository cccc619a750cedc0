using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace PeftNative.NativeApi;

/// <summary>
/// The C entry points of libpeftnative.so (include/peftnative.h documents each). Every entry that
/// can fail returns an <see cref="ApiStatus"/> and, on failure, leaves a one-line message for
/// <c>peftnative_last_error()</c>; no exception ever crosses into the caller.
/// </summary>
public static unsafe class Exports
{
    /// <summary>Bumped whenever a signature in peftnative.h changes.</summary>
    public const int AbiVersion = 1;

    private static readonly nint Version = Marshal.StringToCoTaskMemUTF8(typeof(Exports).Assembly.GetName().Version?.ToString(3) ?? "0.0.0");

    /// <summary><c>const char* peftnative_version(void)</c>: "0.1.0"; static storage.</summary>
    [UnmanagedCallersOnly(EntryPoint = "peftnative_version")]
    public static byte* PeftnativeVersion() => (byte*)Version;

    /// <summary><c>int32_t peftnative_abi_version(void)</c>: <see cref="AbiVersion"/>.</summary>
    [UnmanagedCallersOnly(EntryPoint = "peftnative_abi_version")]
    public static int PeftnativeAbiVersion() => AbiVersion;

    /// <summary><c>const char* peftnative_last_error(void)</c>: the last failure's message on this thread, or "".</summary>
    [UnmanagedCallersOnly(EntryPoint = "peftnative_last_error")]
    public static byte* PeftnativeLastError() => LastError.Pointer;

    /// <summary>
    /// <c>peftnative_status peftnative_compose(const char* expression, const char* const* names,
    /// const char* const* directories, int32_t count, const char* method, const char* output_directory)</c>.
    /// </summary>
    [UnmanagedCallersOnly(EntryPoint = "peftnative_compose")]
    public static int PeftnativeCompose(byte* expression, byte** names, byte** directories, int count, byte* method, byte* outputDirectory)
    {
        try
        {
            KernelLibraryLocation.EnsureConfigured();
            ComposeOperation.Run(
                Utf8Arguments.Required(expression, "expression"),
                Utf8Arguments.RequiredArray(names, count, "names"),
                Utf8Arguments.RequiredArray(directories, count, "directories"),
                Utf8Arguments.Optional(method),
                Utf8Arguments.Required(outputDirectory, "output_directory"));
            return (int)ApiStatus.Ok;
        }
#pragma warning disable CA1031 // the boundary: every exception becomes a status
        catch (Exception e)
#pragma warning restore CA1031
        {
            return Fail("peftnative_compose", e);
        }
    }

    /// <summary>
    /// <c>peftnative_status peftnative_merge(const char* model_directory, const char* adapter_directory,
    /// const char* output_directory, int32_t dtype, int32_t threads)</c>.
    /// </summary>
    [UnmanagedCallersOnly(EntryPoint = "peftnative_merge")]
    public static int PeftnativeMerge(byte* modelDirectory, byte* adapterDirectory, byte* outputDirectory, int dtype, int threads)
    {
        try
        {
            KernelLibraryLocation.EnsureConfigured();
            MergeOperation.Run(
                Utf8Arguments.Required(modelDirectory, "model_directory"),
                Utf8Arguments.Required(adapterDirectory, "adapter_directory"),
                Utf8Arguments.Required(outputDirectory, "output_directory"),
                dtype, threads);
            return (int)ApiStatus.Ok;
        }
#pragma warning disable CA1031 // the boundary: every exception becomes a status
        catch (Exception e)
#pragma warning restore CA1031
        {
            return Fail("peftnative_merge", e);
        }
    }

    /// <summary>Records the failure for <c>peftnative_last_error()</c> and returns its status; never throws.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static int Fail(string entry, Exception e)
    {
        ApiStatus status = ExceptionStatus.Of(e);
        try
        {
            LastError.Set(status == ApiStatus.Internal ? $"{entry}: internal error ({e.GetType().Name}): {e.Message}" : $"{entry}: {e.Message}");
        }
#pragma warning disable CA1031 // formatting the message ran out of memory: the status still goes back
        catch (Exception)
#pragma warning restore CA1031
        {
        }
        return (int)status;
    }
}
