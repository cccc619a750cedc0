using System.Runtime.InteropServices;

namespace PeftNative.Interop;

/// <summary>A non-blocking CUDA stream from <c>pn_cuda_stream_create</c>, destroyed with <c>pn_cuda_stream_destroy</c>.</summary>
public sealed class CudaStreamHandle : SafeHandle
{
    /// <summary>An empty handle (see <see cref="Create"/>).</summary>
    public CudaStreamHandle() : base(0, ownsHandle: true) { }

    /// <inheritdoc />
    public override bool IsInvalid => handle == 0;

    /// <summary>Creates a stream on the current device.</summary>
    public static unsafe CudaStreamHandle Create()
    {
        var h = new CudaStreamHandle();
        nint s = 0;
        CudaLibraryLoader.ThrowIfFailed(CudaStreamMethods.pn_cuda_stream_create(&s));
        h.SetHandle(s);
        return h;
    }

    /// <inheritdoc />
    protected override bool ReleaseHandle() => CudaStreamMethods.pn_cuda_stream_destroy(handle) == NativeStatus.Ok;
}

/// <summary>The create and release imports of <see cref="CudaStreamHandle"/>.</summary>
internal static unsafe partial class CudaStreamMethods
{
    [LibraryImport(CudaNativeMethods.LibraryName)]
    internal static partial NativeStatus pn_cuda_stream_create(nint* stream);

    [LibraryImport(CudaNativeMethods.LibraryName)]
    internal static partial NativeStatus pn_cuda_stream_destroy(nint stream);
}
