using PeftNative.Backends.Managed;

namespace PeftNative.Backends;

/// <summary>
/// Picks the matrix product for the forward pass: "auto" (native-cpu when the native library
/// loads, else managed), "native-cpu" or "managed"; null means <see cref="KernelBackendFactory.EnvironmentVariable"/>, else auto.
/// </summary>
public static class MatMulFactory
{
    /// <summary>Creates a matrix product.</summary>
    /// <param name="name">"auto", "native-cpu" or "managed"; null: environment variable, else auto.</param>
    /// <param name="threads">Worker threads (&lt;= 0: all logical CPUs).</param>
    /// <param name="diagnostics">Receives one line when auto selection falls back; default standard error.</param>
    public static IMatMul Create(string? name = null, int threads = 0, Action<string>? diagnostics = null)
    {
        // Placeholder until the blocked native GEMM lands: the managed product serves every name.
        _ = name;
        _ = diagnostics;
        return new ManagedMatMul(threads);
    }
}
