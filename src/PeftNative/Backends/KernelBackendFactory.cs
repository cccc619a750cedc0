using System.Runtime.CompilerServices;
using PeftNative.Backends.Cuda;
using PeftNative.Backends.Ilgpu;
using PeftNative.Backends.Managed;
using PeftNative.Backends.NativeCpu;
using PeftNative.Backends.Reference;

namespace PeftNative.Backends;

/// <summary>
/// Picks a backend: an explicit name wins, then the PEFTNATIVE_BACKEND environment variable,
/// then the best available ("auto": cuda when libpeft_native_cuda and a device are present, then
/// ilgpu when it finds a CUDA GPU, else native-cpu, else managed; never ilgpu's CPU accelerator,
/// which is for testing). A backend that cannot run says
/// why, in one line, through <c>diagnostics</c> before the factory falls back.
/// </summary>
public static class KernelBackendFactory
{
    /// <summary>Environment variable that overrides automatic selection.</summary>
    public const string EnvironmentVariable = "PEFTNATIVE_BACKEND";

    /// <summary>Names accepted by <see cref="Create"/>.</summary>
    public static IReadOnlyList<string> Names { get; } = ["auto", "native-cpu", "managed", "reference", "ilgpu", "cuda"];

    /// <summary>Creates a backend.</summary>
    /// <param name="name">"auto", "native-cpu", "managed", "reference", "ilgpu" (a CUDA GPU when usable, else
    /// ILGPU's CPU accelerator) or "cuda"; null means the environment variable, else auto.</param>
    /// <param name="threads">Worker threads (&lt;= 0: all logical CPUs).</param>
    /// <param name="diagnostics">Receives one line when auto selection falls back; default standard error.</param>
    /// <exception cref="ArgumentException">Unknown name.</exception>
    /// <exception cref="DllNotFoundException">native-cpu or cuda was named explicitly but cannot load.</exception>
    /// <exception cref="PlatformNotSupportedException">cuda was named explicitly but no CUDA device is usable.</exception>
    public static IKernelBackend Create(string? name = null, int threads = 0, Action<string>? diagnostics = null)
    {
        diagnostics ??= static line => Console.Error.WriteLine(line);
        string chosen = (string.IsNullOrWhiteSpace(name) ? Environment.GetEnvironmentVariable(EnvironmentVariable) : name)?.Trim().ToLowerInvariant() ?? "auto";
        if (chosen.Length == 0)
            chosen = "auto";
        switch (chosen)
        {
            case "native-cpu": return new NativeCpuBackend(threads);
            case "managed": return new ManagedBackend(threads);
            case "reference": return new ReferenceBackend(threads);
            case "ilgpu": return new IlgpuBackend(threads);
            case "cuda": return new CudaBackend();
            case "auto":
                // No GPU is the normal state of a CPU machine: fall through quietly (naming
                // "cuda" explicitly reports why it cannot run).
                if (CudaBackend.IsAvailable(out _))
                    return new CudaBackend();
                // ILGPU compiles kernels at run time: never in a NativeAOT process (the C ABI library).
                if (RuntimeFeature.IsDynamicCodeSupported)
                {
                    if (IlgpuBackend.IsCudaAvailable(out string? noGpu))
                        return new IlgpuBackend(threads, IlgpuAcceleratorKind.Cuda);
                    if (IlgpuBackend.CudaDeviceFound)
                        diagnostics($"peftnative: ilgpu cannot use the GPU ({FirstLine(noGpu)})");
                }
                if (NativeCpuBackend.IsAvailable(out string? reason))
                    return new NativeCpuBackend(threads);
                diagnostics($"peftnative: native-cpu backend unavailable ({FirstLine(reason)}); using managed");
                return new ManagedBackend(threads);
            default:
                throw new ArgumentException($"unknown backend '{chosen}' (expected one of {string.Join(", ", Names)})", nameof(name));
        }
    }

    private static string FirstLine(string? text) =>
        string.IsNullOrEmpty(text) ? "no reason given" : text.Split('\n', 2)[0].Trim();
}
