using PeftNative.Backends.Managed;
using PeftNative.Backends.NativeCpu;

namespace PeftNative.Backends;

/// <summary>
/// Picks the matrix product for the forward pass: an explicit name wins ("auto", "native-cpu",
/// "managed"), then <see cref="KernelBackendFactory.EnvironmentVariable"/>, then auto (native-cpu
/// when libpeft_native loads, else managed, with a one-line reason). The environment variable
/// selects the kernel backend too, so a value that names a backend without a matrix product
/// ("reference", a GPU backend) means auto here, said in one line.
/// </summary>
public static class MatMulFactory
{
    /// <summary>Names accepted by <see cref="Create"/>.</summary>
    public static IReadOnlyList<string> Names { get; } = ["auto", "native-cpu", "managed"];

    /// <summary>Creates a matrix product.</summary>
    /// <param name="name">"auto", "native-cpu" or "managed"; null: the environment variable, else auto.</param>
    /// <param name="threads">Worker threads (&lt;= 0: all logical CPUs).</param>
    /// <param name="diagnostics">Receives one line when a choice falls back; default standard error.</param>
    /// <exception cref="ArgumentException"><paramref name="name"/> is not one of <see cref="Names"/>.</exception>
    /// <exception cref="DllNotFoundException">native-cpu was asked for (by name or by the environment variable) but cannot load.</exception>
    public static IMatMul Create(string? name = null, int threads = 0, Action<string>? diagnostics = null)
    {
        diagnostics ??= static line => Console.Error.WriteLine(line);
        string chosen;
        if (!string.IsNullOrWhiteSpace(name))
        {
            chosen = name.Trim().ToLowerInvariant();
            if (!Names.Contains(chosen))
                throw new ArgumentException($"unknown matrix product '{name}' (expected one of {string.Join(", ", Names)})", nameof(name));
        }
        else
        {
            chosen = Environment.GetEnvironmentVariable(KernelBackendFactory.EnvironmentVariable)?.Trim().ToLowerInvariant() ?? "";
            if (chosen.Length == 0)
                chosen = "auto";
            else if (!Names.Contains(chosen))
            {
                diagnostics($"peftnative: {KernelBackendFactory.EnvironmentVariable}={chosen} has no matrix product; choosing one automatically");
                chosen = "auto";
            }
        }
        switch (chosen)
        {
            case "native-cpu": return new NativeCpuMatMul(threads);
            case "managed": return new ManagedMatMul(threads);
            default:
                if (NativeCpuBackend.IsAvailable(out string? reason))
                    return new NativeCpuMatMul(threads);
                diagnostics($"peftnative: native-cpu matrix product unavailable ({FirstLine(reason)}); using managed");
                return new ManagedMatMul(threads);
        }
    }

    private static string FirstLine(string? text) =>
        string.IsNullOrEmpty(text) ? "no reason given" : text.Split('\n', 2)[0].Trim();
}
