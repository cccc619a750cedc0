using PeftNative.Interop;

namespace PeftNative.Backends.NativeCpu;

/// <summary>
/// The blocked GEMM of libpeft_native (<c>pn_cpu_matmul</c>: 6 × 16 AVX2/FMA register block, W
/// packed per call into f32 panels with f16/bf16 converted while packing; a GEMV that reads W in
/// place for m ≤ 2), through P/Invoke. Results do not depend on <see cref="Threads"/>.
/// </summary>
public sealed unsafe class NativeCpuMatMul : IMatMul
{
    private readonly NativeIsa? _isa;

    /// <summary>Creates the product.</summary>
    /// <param name="threads">Worker threads (&lt;= 0: all logical CPUs).</param>
    /// <param name="isa">Force an instruction-set level (tests, benchmarks); null = the best the CPU has.
    /// The level is process-wide in the native library, so it is re-selected before each call.</param>
    /// <exception cref="DllNotFoundException">libpeft_native cannot be loaded.</exception>
    /// <exception cref="PlatformNotSupportedException">The CPU lacks <paramref name="isa"/>.</exception>
    public NativeCpuMatMul(int threads = 0, NativeIsa? isa = null)
    {
        var caps = NativeCpuBackend.QueryCapabilities();
        if (isa is { } forced && (int)forced > caps.BestIsa)
            throw new PlatformNotSupportedException($"native-cpu: this CPU does not support {forced} (best is {(NativeIsa)caps.BestIsa})");
        _isa = isa;
        Isa = isa ?? (NativeIsa)caps.BestIsa;
        Threads = threads <= 0 ? caps.DefaultThreads : threads;
    }

    /// <inheritdoc/>
    public string Name => "native-cpu";

    /// <inheritdoc/>
    public int Threads { get; }

    /// <summary>The instruction-set level the product runs.</summary>
    public NativeIsa Isa { get; }

    /// <inheritdoc/>
    public void MatMul(ReadOnlySpan<float> x, int m, Tensor weight, bool weightIsInputMajor, Span<float> y, bool accumulate = false)
    {
        var (n, k) = MatMulArguments.Validate("matmul", x, m, weight, weightIsInputMajor, y);
        NativeLibraryLoader.ThrowIfFailed(NativeMethods.pn_set_isa(_isa is { } isa ? (int)isa : -1));
        fixed (float* xp = x)
        fixed (float* yp = y)
        {
            NativeLibraryLoader.ThrowIfFailed(NativeMethods.pn_cpu_matmul(m, n, k, xp, (int)weight.DType.ToNative(),
                (void*)weight.Pointer, weightIsInputMajor ? 1 : 0, yp, accumulate ? 1 : 0, Threads));
        }
        GC.KeepAlive(weight);
    }

    /// <inheritdoc/>
    public void Dispose() { }
}
