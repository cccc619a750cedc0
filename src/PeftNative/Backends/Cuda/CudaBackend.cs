using PeftNative.Interop;

namespace PeftNative.Backends.Cuda;

/// <summary>
/// The hand-written CUDA kernels of libpeft_native_cuda through P/Invoke, on host tensors: each
/// call uploads its inputs, runs the kernel on the backend's stream, and downloads the result
/// (device memory is freed before the call returns). Construction fails when the library or a
/// device is missing; <see cref="IsAvailable"/> says why without throwing.
/// </summary>
public sealed unsafe class CudaBackend : KernelBackend
{
    private readonly object _gate = new();
    private readonly CudaStreamHandle _stream;
    private readonly int _ordinal;

    /// <summary>Creates the backend on device <paramref name="device"/>.</summary>
    /// <exception cref="DllNotFoundException">libpeft_native_cuda cannot be loaded.</exception>
    /// <exception cref="PlatformNotSupportedException">No usable CUDA device (or <paramref name="device"/> is out of range).</exception>
    public CudaBackend(int device = 0) : base(1)
    {
        CudaLibraryLoader.EnsureLoaded();
        if (!CudaLibraryLoader.TryGetDeviceCount(out int count, out string? reason))
            throw new PlatformNotSupportedException($"cuda: no CUDA device: {reason}");
        if (device < 0 || device >= count)
            throw new PlatformNotSupportedException($"cuda: device {device} does not exist ({count} device{(count == 1 ? "" : "s")})");
        _ordinal = device;
        CudaLibraryLoader.ThrowIfFailed(CudaNativeMethods.pn_cuda_set_device(device));
        Device = CudaLibraryLoader.GetDeviceInfo(device);
        _stream = CudaStreamHandle.Create();
    }

    /// <summary>True when libpeft_native_cuda loads and sees a device; otherwise <paramref name="reason"/> says why in one line.</summary>
    public static bool IsAvailable(out string? reason)
    {
        if (CudaLibraryLoader.TryGetDeviceCount(out _, out reason))
            return true;
        // One line: the loader's probe list stays in CudaLibraryLoader.LoadTrace.
        string first = reason?.Split('\n', 2)[0].Trim() ?? "no reason given";
        reason = first.EndsWith(" Probes:", StringComparison.Ordinal)
            ? $"{first[..^" Probes:".Length].TrimEnd('.')} (set {CudaLibraryLoader.PathVariable} to its path)"
            : first;
        return false;
    }

    /// <summary>The device the kernels run on.</summary>
    public CudaDeviceInfo Device { get; }

    /// <inheritdoc />
    public override string Name => "cuda";

    /// <inheritdoc />
    public override string Description => $"device {_ordinal}: {Device}";

    /// <inheritdoc />
    protected override void AffineCore(ReadOnlySpan<Tensor> inputs, ReadOnlySpan<float> weights, float constant, Tensor output)
    {
        var hostInputs = inputs.ToArray();
        var hostWeights = weights.ToArray();
        Run(staging =>
        {
            var pointers = new nint[hostInputs.Length];
            for (int i = 0; i < hostInputs.Length; i++)
                pointers[i] = staging.Upload(hostInputs[i]);
            nint outPtr = staging.ForOutput(output);
            fixed (nint* p = pointers)
            fixed (float* w = hostWeights)
            {
                CudaLibraryLoader.ThrowIfFailed(CudaNativeMethods.pn_cuda_affine(
                    (int)hostInputs[0].DType.ToNative(), (int)output.DType.ToNative(), output.ElementCount,
                    hostInputs.Length, p, w, constant, outPtr, Stream));
            }
            staging.Download(output);
        });
    }

    /// <inheritdoc />
    protected override void LowRankMergeCore(Tensor weight, ReadOnlySpan<LowRankUpdate> updates, bool fanInFanOut)
    {
        var hostUpdates = updates.ToArray();
        long outFeatures = fanInFanOut ? weight.Shape[1] : weight.Shape[0];
        long inFeatures = fanInFanOut ? weight.Shape[0] : weight.Shape[1];
        Run(staging =>
        {
            nint w = staging.Upload(weight);
            var factors = new NativeLowRankFactor[hostUpdates.Length];
            for (int k = 0; k < hostUpdates.Length; k++)
            {
                var u = hostUpdates[k];
                if (u.Rank > int.MaxValue)
                    throw new ArgumentException($"lowrank_merge: update {k} has rank {u.Rank}, more than the native ABI takes");
                factors[k] = new NativeLowRankFactor
                {
                    B = (void*)staging.Upload(u.B),
                    A = (void*)staging.Upload(u.A),
                    DType = (int)u.B.DType.ToNative(),
                    Rank = (int)u.Rank,
                    Scale = u.Scale,
                };
            }
            if (factors.Length <= CudaNativeMethods.MaxFactors)
                Merge(weight.DType, w, outFeatures, inFeatures, fanInFanOut, factors);
            else
                MergeManyFactors(weight, w, outFeatures, inFeatures, fanInFanOut, factors);
            staging.Download(weight);
        });
    }

    /// <inheritdoc />
    protected override void ScaleRowsCore(Tensor weight, Tensor scale, bool inverse) =>
        Scale(weight, scale, inverse, rows: true);

    /// <inheritdoc />
    protected override void ScaleColumnsCore(Tensor weight, Tensor scale, bool inverse) =>
        Scale(weight, scale, inverse, rows: false);

    /// <inheritdoc />
    protected override void ConvertCore(Tensor source, Tensor destination) =>
        Run(staging =>
        {
            nint src = staging.Upload(source);
            nint dst = staging.ForOutput(destination);
            CudaLibraryLoader.ThrowIfFailed(CudaNativeMethods.pn_cuda_convert(
                (int)source.DType.ToNative(), src, (int)destination.DType.ToNative(), dst, source.ElementCount, Stream));
            staging.Download(destination);
        });

    /// <inheritdoc />
    public override void Dispose()
    {
        _stream.Dispose();
        base.Dispose();
    }

    private nint Stream => _stream.DangerousGetHandle();

    // One call at a time per backend (one stream); the device is made current on the calling
    // thread first, because CUDA's current device is per thread.
    private void Run(Action<CudaStaging> body)
    {
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_stream.IsClosed, this);
            CudaLibraryLoader.ThrowIfFailed(CudaNativeMethods.pn_cuda_set_device(_ordinal));
            using var staging = new CudaStaging(_stream);
            body(staging);
        }
    }

    private void Scale(Tensor weight, Tensor scale, bool inverse, bool rows) =>
        Run(staging =>
        {
            nint w = staging.Upload(weight);
            nint l = staging.Upload(scale);
            int wType = (int)weight.DType.ToNative(), lType = (int)scale.DType.ToNative();
            CudaLibraryLoader.ThrowIfFailed(rows
                ? CudaNativeMethods.pn_cuda_scale_rows(wType, w, weight.Rows, weight.Columns, lType, l, inverse ? 1 : 0, Stream)
                : CudaNativeMethods.pn_cuda_scale_cols(wType, w, weight.Rows, weight.Columns, lType, l, inverse ? 1 : 0, Stream));
            staging.Download(weight);
        });

    private void Merge(DType wType, nint w, long outFeatures, long inFeatures, bool fanInFanOut, ReadOnlySpan<NativeLowRankFactor> factors)
    {
        fixed (NativeLowRankFactor* f = factors)
        {
            CudaLibraryLoader.ThrowIfFailed(CudaNativeMethods.pn_cuda_lowrank_merge(
                (int)wType.ToNative(), w, outFeatures, inFeatures, fanInFanOut ? 1 : 0, factors.Length, f, Stream));
        }
    }

    // More factors than one launch takes: accumulate in an f32 copy of W in groups (f32 partial
    // sums, as the CPU's f32 accumulator), then round to W's dtype once.
    private void MergeManyFactors(Tensor weight, nint w, long outFeatures, long inFeatures, bool fanInFanOut, NativeLowRankFactor[] factors)
    {
        using var wide = weight.DType == DType.F32 ? null : CudaBuffer.Allocate(weight.ElementCount * 4);
        nint acc = wide?.Pointer ?? w;
        if (acc != w)
            CudaLibraryLoader.ThrowIfFailed(CudaNativeMethods.pn_cuda_convert((int)weight.DType.ToNative(), w, (int)NativeDType.F32, acc, weight.ElementCount, Stream));
        for (int first = 0; first < factors.Length; first += CudaNativeMethods.MaxFactors)
            Merge(DType.F32, acc, outFeatures, inFeatures, fanInFanOut,
                factors.AsSpan(first, Math.Min(CudaNativeMethods.MaxFactors, factors.Length - first)));
        if (acc != w)
            CudaLibraryLoader.ThrowIfFailed(CudaNativeMethods.pn_cuda_convert((int)NativeDType.F32, acc, (int)weight.DType.ToNative(), w, weight.ElementCount, Stream));
    }
}
