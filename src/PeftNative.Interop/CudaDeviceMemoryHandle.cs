using System.Runtime.InteropServices;

namespace PeftNative.Interop;

/// <summary>Device memory from <c>pn_cuda_malloc</c>, released with <c>pn_cuda_free</c>.</summary>
public sealed class CudaDeviceMemoryHandle : SafeHandle
{
    /// <summary>An empty handle (the marshaller and <see cref="Allocate"/> fill it).</summary>
    public CudaDeviceMemoryHandle() : base(0, ownsHandle: true) { }

    /// <summary>Bytes allocated.</summary>
    public long ByteLength { get; private set; }

    /// <inheritdoc />
    public override bool IsInvalid => handle == 0;

    /// <summary>Allocates <paramref name="bytes"/> of device memory on the current device.</summary>
    /// <exception cref="OutOfMemoryException">The device has not enough free memory.</exception>
    public static unsafe CudaDeviceMemoryHandle Allocate(long bytes)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(bytes);
        var h = new CudaDeviceMemoryHandle();
        nint p = 0;
        CudaLibraryLoader.ThrowIfFailed(CudaDeviceMemoryMethods.pn_cuda_malloc(Math.Max(bytes, 1), &p));
        h.SetHandle(p);
        h.ByteLength = bytes;
        return h;
    }

    /// <inheritdoc />
    protected override bool ReleaseHandle() => CudaDeviceMemoryMethods.pn_cuda_free(handle) == NativeStatus.Ok;
}

/// <summary>The create and release imports of <see cref="CudaDeviceMemoryHandle"/>.</summary>
internal static unsafe partial class CudaDeviceMemoryMethods
{
    [LibraryImport(CudaNativeMethods.LibraryName)]
    internal static partial NativeStatus pn_cuda_malloc(long bytes, nint* ptr);

    [LibraryImport(CudaNativeMethods.LibraryName)]
    internal static partial NativeStatus pn_cuda_free(nint ptr);
}
