using PeftNative.Interop;

namespace PeftNative.Backends.NativeCpu;

/// <summary>
/// The hand-written C kernels of libpeft_native (AVX-512 / AVX2+FMA+F16C / scalar, chosen at
/// run time) through P/Invoke. Construction fails with <see cref="DllNotFoundException"/> (with
/// the loader's probe trace) when the library is missing or has another ABI version.
/// </summary>
public sealed unsafe class NativeCpuBackend : KernelBackend
{
    private readonly NativeIsa? _isa;

    /// <summary>Creates the backend.</summary>
    /// <param name="threads">Worker threads (&lt;= 0: all logical CPUs).</param>
    /// <param name="isa">Force an instruction-set level (tests, benchmarks); null = best the CPU has.
    /// The level is process-wide in the native library, so the backend re-selects it before each call.</param>
    /// <exception cref="DllNotFoundException">libpeft_native cannot be loaded.</exception>
    /// <exception cref="PlatformNotSupportedException">The CPU lacks <paramref name="isa"/>.</exception>
    public NativeCpuBackend(int threads = 0, NativeIsa? isa = null) : base(threads)
    {
        NativeLibraryLoader.EnsureLoaded();
        Capabilities = QueryCapabilities();
        if (isa is { } forced && (int)forced > Capabilities.BestIsa)
            throw new PlatformNotSupportedException($"native-cpu: this CPU does not support {forced} (best is {(NativeIsa)Capabilities.BestIsa})");
        _isa = isa;
    }

    /// <summary>What the CPU and library can do.</summary>
    public NativeCapabilities Capabilities { get; }

    /// <summary>The instruction-set level the kernels run.</summary>
    public NativeIsa Isa => _isa ?? (NativeIsa)Capabilities.BestIsa;

    /// <inheritdoc />
    public override string Name => "native-cpu";

    /// <inheritdoc />
    public override string Description => $"{Isa.ToString().ToLowerInvariant()}, {Threads} thread{(Threads == 1 ? "" : "s")}";

    /// <summary>True when libpeft_native can be loaded; otherwise <paramref name="reason"/> says why.</summary>
    public static bool IsAvailable(out string? reason) => NativeLibraryLoader.TryEnsureLoaded(out reason);

    /// <summary>Queries the native capability struct.</summary>
    public static NativeCapabilities QueryCapabilities()
    {
        NativeLibraryLoader.EnsureLoaded();
        NativeCapabilities caps = default;
        caps.StructSize = (uint)sizeof(NativeCapabilities);
        NativeLibraryLoader.ThrowIfFailed(NativeMethods.pn_get_capabilities(&caps));
        return caps;
    }

    /// <inheritdoc />
    protected override void AffineCore(ReadOnlySpan<Tensor> inputs, ReadOnlySpan<float> weights, float constant, Tensor output) =>
        NativeAffine(inputs, weights, constant, output, 0, null);

    /// <inheritdoc />
    /// <remarks>One pass: pn_cpu_affine_ex compares each vector with the output dtype's overflow limit before storing it, with non-temporal stores.</remarks>
    protected override bool AffineReportingNonFiniteCore(ReadOnlySpan<Tensor> inputs, ReadOnlySpan<float> weights, float constant, Tensor output)
    {
        int nonFinite = 0;
        NativeAffine(inputs, weights, constant, output, NativeMethods.AffineStream, &nonFinite);
        return nonFinite != 0;
    }

    private void NativeAffine(ReadOnlySpan<Tensor> inputs, ReadOnlySpan<float> weights, float constant, Tensor output, uint flags, int* nonFinite)
    {
        SelectIsa();
        void** pointers = stackalloc void*[inputs.Length];
        for (int i = 0; i < inputs.Length; i++)
            pointers[i] = (void*)inputs[i].Pointer;
        fixed (float* w = weights)
        {
            NativeLibraryLoader.ThrowIfFailed(NativeMethods.pn_cpu_affine_ex(
                (int)inputs[0].DType.ToNative(), (int)output.DType.ToNative(), output.ElementCount, inputs.Length,
                pointers, w, constant, (void*)output.Pointer, Threads, flags, nonFinite));
        }
        GC.KeepAlive(output);
    }

    /// <inheritdoc />
    protected override void LowRankMergeCore(Tensor weight, ReadOnlySpan<LowRankUpdate> updates, bool fanInFanOut)
    {
        SelectIsa();
        long outFeatures = fanInFanOut ? weight.Shape[1] : weight.Shape[0];
        long inFeatures = fanInFanOut ? weight.Shape[0] : weight.Shape[1];
        NativeLowRankFactor* factors = stackalloc NativeLowRankFactor[updates.Length];
        for (int k = 0; k < updates.Length; k++)
        {
            var u = updates[k];
            if (u.Rank > int.MaxValue)
                throw new ArgumentException($"lowrank_merge: update {k} has rank {u.Rank}, more than the native ABI takes");
            factors[k] = new NativeLowRankFactor
            {
                B = (void*)u.B.Pointer,
                A = (void*)u.A.Pointer,
                DType = (int)u.B.DType.ToNative(),
                Rank = (int)u.Rank,
                Scale = u.Scale,
            };
        }
        NativeLibraryLoader.ThrowIfFailed(NativeMethods.pn_cpu_lowrank_merge(
            (int)weight.DType.ToNative(), (void*)weight.Pointer, outFeatures, inFeatures,
            fanInFanOut ? 1 : 0, updates.Length, factors, Threads));
        GC.KeepAlive(weight);
    }

    /// <inheritdoc />
    protected override void ScaleRowsCore(Tensor weight, Tensor scale, bool inverse)
    {
        SelectIsa();
        NativeLibraryLoader.ThrowIfFailed(NativeMethods.pn_cpu_scale_rows(
            (int)weight.DType.ToNative(), (void*)weight.Pointer, weight.Rows, weight.Columns,
            (int)scale.DType.ToNative(), (void*)scale.Pointer, inverse ? 1 : 0, Threads));
    }

    /// <inheritdoc />
    protected override void ScaleColumnsCore(Tensor weight, Tensor scale, bool inverse)
    {
        SelectIsa();
        NativeLibraryLoader.ThrowIfFailed(NativeMethods.pn_cpu_scale_cols(
            (int)weight.DType.ToNative(), (void*)weight.Pointer, weight.Rows, weight.Columns,
            (int)scale.DType.ToNative(), (void*)scale.Pointer, inverse ? 1 : 0, Threads));
    }

    /// <inheritdoc />
    protected override void ConvertCore(Tensor source, Tensor destination)
    {
        SelectIsa();
        NativeLibraryLoader.ThrowIfFailed(NativeMethods.pn_cpu_convert(
            (int)source.DType.ToNative(), (void*)source.Pointer, (int)destination.DType.ToNative(),
            (void*)destination.Pointer, source.ElementCount, Threads));
    }

    // The level is process-wide: re-select ours (or the best, -1) before every call so a
    // backend forced to another level earlier cannot leave its choice behind.
    private void SelectIsa() =>
        NativeLibraryLoader.ThrowIfFailed(NativeMethods.pn_set_isa(_isa is { } isa ? (int)isa : -1));
}
