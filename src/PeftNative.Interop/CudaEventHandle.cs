using System.Runtime.InteropServices;

namespace PeftNative.Interop;

/// <summary>A CUDA timing event from <c>pn_cuda_event_create</c>, destroyed with <c>pn_cuda_event_destroy</c>.</summary>
public sealed class CudaEventHandle : SafeHandle
{
    /// <summary>An empty handle (see <see cref="Create"/>).</summary>
    public CudaEventHandle() : base(0, ownsHandle: true) { }

    /// <inheritdoc />
    public override bool IsInvalid => handle == 0;

    /// <summary>Creates an event on the current device.</summary>
    public static unsafe CudaEventHandle Create()
    {
        var h = new CudaEventHandle();
        nint e = 0;
        CudaLibraryLoader.ThrowIfFailed(CudaEventMethods.pn_cuda_event_create(&e));
        h.SetHandle(e);
        return h;
    }

    /// <inheritdoc />
    protected override bool ReleaseHandle() => CudaEventMethods.pn_cuda_event_destroy(handle) == NativeStatus.Ok;
}

/// <summary>The create and release imports of <see cref="CudaEventHandle"/>.</summary>
internal static unsafe partial class CudaEventMethods
{
    [LibraryImport(CudaNativeMethods.LibraryName)]
    internal static partial NativeStatus pn_cuda_event_create(nint* cudaEvent);

    [LibraryImport(CudaNativeMethods.LibraryName)]
    internal static partial NativeStatus pn_cuda_event_destroy(nint cudaEvent);
}
