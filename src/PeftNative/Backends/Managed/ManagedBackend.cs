using System.Runtime.Intrinsics;

namespace PeftNative.Backends.Managed;

/// <summary>
/// The kernels of DESIGN.md section 3 in C# with System.Runtime.Intrinsics, no native code:
/// the same arithmetic as the native library (f32 accumulation with FMA, one round-to-nearest-even
/// when storing a 16-bit value, NaN stays NaN). Each kernel is written once, generically over the
/// vector width (<see cref="ManagedVectorWidth"/>), and runs on <see cref="KernelBackend.Threads"/>
/// threads through <see cref="Parallel"/> (small problems stay on the calling thread).
/// </summary>
public sealed class ManagedBackend : KernelBackend
{
    /// <summary>Creates the backend.</summary>
    /// <param name="threads">Worker threads (&lt;= 0: all logical CPUs).</param>
    /// <param name="width">Vector width; <see cref="ManagedVectorWidth.Auto"/> picks the widest the
    /// hardware accelerates. An explicit width always runs (emulated in software where the hardware
    /// lacks it), so tests can cover every path on any machine.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="width"/> is not a defined value.</exception>
    public ManagedBackend(int threads = 0, ManagedVectorWidth width = ManagedVectorWidth.Auto) : base(threads)
    {
        if (!Enum.IsDefined(width))
            throw new ArgumentOutOfRangeException(nameof(width), width, "unknown vector width");
        Width = width == ManagedVectorWidth.Auto ? BestWidth : width;
        // The 256-bit conversions read a constant table; initialized before any kernel is compiled,
        // the JIT embeds its address instead of a class-initialization check (which, in a loop's
        // method, also costs registers).
        System.Runtime.CompilerServices.RuntimeHelpers.RunClassConstructor(typeof(Simd256).TypeHandle);
    }

    /// <summary>The widest vector width the hardware accelerates (never <see cref="ManagedVectorWidth.Auto"/>).</summary>
    public static ManagedVectorWidth BestWidth =>
        Vector512.IsHardwareAccelerated ? ManagedVectorWidth.V512
        : Vector256.IsHardwareAccelerated ? ManagedVectorWidth.V256
        : Vector128.IsHardwareAccelerated ? ManagedVectorWidth.V128
        : ManagedVectorWidth.Scalar;

    /// <summary>The vector width the kernels run (resolved; never <see cref="ManagedVectorWidth.Auto"/>).</summary>
    public ManagedVectorWidth Width { get; }

    /// <inheritdoc />
    public override string Name => "managed";

    /// <summary>The width and threads, e.g. "vector256, 2 threads" (", emulated" when the hardware lacks the width).</summary>
    public override string Description
    {
        get
        {
            string width = Width switch
            {
                ManagedVectorWidth.V512 => "vector512",
                ManagedVectorWidth.V256 => "vector256",
                ManagedVectorWidth.V128 => "vector128",
                _ => "scalar",
            };
            bool emulated = Width switch
            {
                ManagedVectorWidth.V512 => !Vector512.IsHardwareAccelerated,
                ManagedVectorWidth.V256 => !Vector256.IsHardwareAccelerated,
                ManagedVectorWidth.V128 => !Vector128.IsHardwareAccelerated,
                _ => false,
            };
            return $"{width}{(emulated ? " (emulated)" : "")}, {Threads} thread{(Threads == 1 ? "" : "s")}";
        }
    }

    /// <inheritdoc />
    protected override void AffineCore(ReadOnlySpan<Tensor> inputs, ReadOnlySpan<float> weights, float constant, Tensor output) =>
        ManagedAffine.Run(Width, Threads, inputs, weights, constant, output);

    /// <inheritdoc />
    protected override void LowRankMergeCore(Tensor weight, ReadOnlySpan<LowRankUpdate> updates, bool fanInFanOut) =>
        ManagedLowRankMerge.Run(Width, Threads, weight, updates, fanInFanOut);

    /// <inheritdoc />
    protected override void ScaleRowsCore(Tensor weight, Tensor scale, bool inverse) =>
        ManagedScale.Run(Width, Threads, weight, scale, inverse, rows: true);

    /// <inheritdoc />
    protected override void ScaleColumnsCore(Tensor weight, Tensor scale, bool inverse) =>
        ManagedScale.Run(Width, Threads, weight, scale, inverse, rows: false);

    /// <inheritdoc />
    protected override void ConvertCore(Tensor source, Tensor destination) =>
        ManagedConvert.Run(Width, Threads, source, destination);
}
