using PeftNative.Backends.Ilgpu;
using PeftNative.Backends.Managed;
using PeftNative.Backends.NativeCpu;
using PeftNative.Backends.Reference;

namespace PeftNative.Backends;

/// <summary>
/// Picks a backend: an explicit name wins, then the PEFTNATIVE_BACKEND environment variable,
/// then the best available ("auto": ilgpu when it finds a CUDA GPU, else native-cpu, else managed;
/// never ilgpu's CPU accelerator, which is for testing). A backend that cannot run says
/// why, in one line, through <c>diagnostics</c> before the factory falls back.
/// </summary>
public static class KernelBackendFactory
{
    /// <summary>Environment variable that overrides automatic selection.</summary>
    public const string EnvironmentVariable = "PEFTNATIVE_BACKEND";

    /// <summary>Names accepted by <see cref="Create"/>.</summary>
    public static IReadOnlyList<string> Names { get; } = ["auto", "native-cpu", "managed", "reference", "ilgpu"];

    /// <summary>Creates a backend.</summary>
    /// <param name="name">"auto", "native-cpu", "managed", "reference" or "ilgpu" (a CUDA GPU when usable, else
    /// ILGPU's CPU accelerator); null means the environment variable, else auto.</param>
    /// <param name="threads">Worker threads (&lt;= 0: all logical CPUs).</param>
    /// <param name="diagnostics">Receives one line when auto selection falls back; default standard error.</param>
    /// <exception cref="ArgumentException">Unknown name.</exception>
    /// <exception cref="DllNotFoundException">native-cpu was named explicitly but cannot load.</exception>
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
            case "auto":
                if (IlgpuBackend.IsCudaAvailable(out string? noGpu))
                    return new IlgpuBackend(threads, IlgpuAcceleratorKind.Cuda);
                if (IlgpuBackend.CudaDeviceFound)
                    diagnostics($"peftnative: ilgpu cannot use the GPU ({FirstLine(noGpu)})");
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
