using System.Reflection;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Text;

namespace PeftNative.Interop;

/// <summary>
/// Finds and loads libpeft_native. Probes, in order: the file named by PEFTNATIVE_NATIVE_PATH,
/// runtimes/&lt;rid&gt;/native next to the app, the app directory, then the system search path.
/// Never throws while probing; every attempt is recorded in <see cref="LoadTrace"/>, which ends
/// up in the error message when the library cannot be used. The ABI version is checked right
/// after loading.
/// </summary>
public static unsafe class NativeLibraryLoader
{
    /// <summary>Environment variable that names an explicit libpeft_native path.</summary>
    public const string PathVariable = "PEFTNATIVE_NATIVE_PATH";

    private static readonly object Gate = new();
    private static readonly StringBuilder Trace = new();
    private static nint s_handle;
    private static bool s_probed;
    private static string? s_failure;

    // The resolver must be in place before the first P/Invoke from any caller of this assembly.
#pragma warning disable CA2255
    [ModuleInitializer]
#pragma warning restore CA2255
    internal static void Register() =>
        NativeLibrary.SetDllImportResolver(typeof(NativeLibraryLoader).Assembly, Resolve);

    /// <summary>Every probe made so far, one per line.</summary>
    public static string LoadTrace { get { lock (Gate) return Trace.ToString(); } }

    /// <summary>True when the library is loaded and its ABI version matches.</summary>
    public static bool TryEnsureLoaded(out string? failure)
    {
        lock (Gate)
        {
            if (!s_probed)
            {
                s_probed = true;
                s_handle = Probe();
                if (s_handle == 0)
                    s_failure = "libpeft_native was not found. Probes:\n" + Trace;
                else
                {
                    if (!NativeLibrary.TryGetExport(s_handle, "pn_abi_version", out var export))
                    {
                        Trace.AppendLine("  the loaded library has no pn_abi_version export: not libpeft_native");
                        s_failure = "the loaded library is not libpeft_native (no pn_abi_version export). Probes:\n" + Trace;
                        s_handle = 0;
                    }
                    else
                    {
                        int abi = ((delegate* unmanaged<int>)export)();
                        if (abi != NativeMethods.AbiVersion)
                        {
                            s_failure = $"libpeft_native has ABI version {abi}, this assembly needs {NativeMethods.AbiVersion}. Probes:\n{Trace}";
                            s_handle = 0;
                        }
                    }
                }
            }
            failure = s_failure;
            return s_failure is null;
        }
    }

    /// <summary>Throws <see cref="DllNotFoundException"/> with the probe trace when the library is unusable.</summary>
    public static void EnsureLoaded()
    {
        if (!TryEnsureLoaded(out var failure))
            throw new DllNotFoundException(failure);
    }

    /// <summary>Maps a status to an exception carrying the native message; returns on <see cref="NativeStatus.Ok"/>.</summary>
    public static void ThrowIfFailed(NativeStatus status)
    {
        if (status == NativeStatus.Ok)
            return;
        throw StatusException(status, LastError());
    }

    /// <summary>The exception for a failed status (shared with <see cref="CudaLibraryLoader"/>).</summary>
    internal static Exception StatusException(NativeStatus status, string message) => status switch
    {
        NativeStatus.InvalidArgument => new ArgumentException(message),
        NativeStatus.Unsupported => new PlatformNotSupportedException(message),
        NativeStatus.OutOfMemory => new OutOfMemoryException(message),
        _ => new PeftNativeException(status, message),
    };

    /// <summary>The native thread-local message of the last failure on this thread.</summary>
    public static string LastError()
    {
        var p = NativeMethods.pn_last_error();
        return p == null ? "" : Marshal.PtrToStringUTF8((nint)p) ?? "";
    }

    private static nint Resolve(string name, Assembly assembly, DllImportSearchPath? searchPath)
    {
        if (name == CudaNativeMethods.LibraryName)
            return CudaLibraryLoader.TryEnsureLoaded(out _) ? CudaLibraryLoader.Handle : 0;
        if (name != NativeMethods.LibraryName)
            return 0;
        return TryEnsureLoaded(out _) ? s_handle : 0;
    }

    private static nint Probe() =>
        ProbeLibrary("peft_native", Environment.GetEnvironmentVariable(PathVariable), Trace);

    /// <summary>
    /// Loads lib<paramref name="baseName"/> from, in order: <paramref name="explicitPath"/>,
    /// runtimes/&lt;rid&gt;/native next to the app, the app directory, the system search path.
    /// Never throws; every attempt is appended to <paramref name="trace"/>. 0 when none loads.
    /// </summary>
    internal static nint ProbeLibrary(string baseName, string? explicitPath, StringBuilder trace)
    {
        var candidates = new List<string>();
        if (!string.IsNullOrEmpty(explicitPath))
            candidates.Add(explicitPath);
        string file = OperatingSystem.IsWindows() ? $"{baseName}.dll"
            : OperatingSystem.IsMacOS() ? $"lib{baseName}.dylib" : $"lib{baseName}.so";
        string baseDir = AppContext.BaseDirectory;
        candidates.Add(Path.Combine(baseDir, "runtimes", RuntimeInformation.RuntimeIdentifier, "native", file));
        candidates.Add(Path.Combine(baseDir, "runtimes", $"{PlatformName()}-{RuntimeInformation.ProcessArchitecture.ToString().ToLowerInvariant()}", "native", file));
        candidates.Add(Path.Combine(baseDir, file));

        foreach (var path in candidates.Distinct())
        {
            if (!File.Exists(path))
            {
                trace.AppendLine($"  {path}: not found");
                continue;
            }
            if (NativeLibrary.TryLoad(path, out var handle))
            {
                trace.AppendLine($"  {path}: loaded");
                return handle;
            }
            trace.AppendLine($"  {path}: exists but failed to load (wrong architecture or missing dependency)");
        }
        if (NativeLibrary.TryLoad(file, out var fromSearchPath))
        {
            trace.AppendLine($"  {file} (system search path): loaded");
            return fromSearchPath;
        }
        trace.AppendLine($"  {file} (system search path): not found");
        return 0;
    }

    private static string PlatformName() =>
        OperatingSystem.IsWindows() ? "win" : OperatingSystem.IsMacOS() ? "osx" : "linux";
}
