using PeftNative.Interop;

namespace PeftNative.Backends.Cuda;

/// <summary>
/// A block of device memory (SafeHandle-backed: freed on <see cref="Dispose"/>, or by the
/// finalizer if a caller forgets) with synchronous copies from and to host tensors.
/// </summary>
public sealed unsafe class CudaBuffer : IDisposable
{
    private readonly CudaDeviceMemoryHandle _memory;

    private CudaBuffer(CudaDeviceMemoryHandle memory) => _memory = memory;

    /// <summary>Bytes of device memory.</summary>
    public long ByteLength => _memory.ByteLength;

    /// <summary>The device address (valid until <see cref="Dispose"/>).</summary>
    public nint Pointer
    {
        get
        {
            ObjectDisposedException.ThrowIf(_memory.IsClosed, this);
            return _memory.DangerousGetHandle();
        }
    }

    /// <summary>Allocates <paramref name="bytes"/> on the current device.</summary>
    /// <exception cref="OutOfMemoryException">The device has not enough free memory.</exception>
    public static CudaBuffer Allocate(long bytes) => new(CudaDeviceMemoryHandle.Allocate(bytes));

    /// <summary>Allocates a buffer of the tensor's size and copies the tensor into it.</summary>
    public static CudaBuffer FromHost(Tensor source, CudaStreamHandle? stream = null)
    {
        ArgumentNullException.ThrowIfNull(source);
        var buffer = Allocate(source.ByteLength);
        try
        {
            buffer.Upload(source, stream);
            return buffer;
        }
        catch
        {
            buffer.Dispose();
            throw;
        }
    }

    /// <summary>Copies all of <paramref name="source"/> to the start of the buffer (after the stream's queued work).</summary>
    public void Upload(Tensor source, CudaStreamHandle? stream = null)
    {
        ArgumentNullException.ThrowIfNull(source);
        RequireFits(source.ByteLength, "upload");
        CudaLibraryLoader.ThrowIfFailed(CudaNativeMethods.pn_cuda_memcpy_h2d(Pointer, (void*)source.Pointer, source.ByteLength, StreamOf(stream)));
        GC.KeepAlive(source);
    }

    /// <summary>Copies the start of the buffer into all of <paramref name="destination"/> (after the stream's queued work).</summary>
    public void Download(Tensor destination, CudaStreamHandle? stream = null)
    {
        ArgumentNullException.ThrowIfNull(destination);
        RequireFits(destination.ByteLength, "download");
        CudaLibraryLoader.ThrowIfFailed(CudaNativeMethods.pn_cuda_memcpy_d2h((void*)destination.Pointer, Pointer, destination.ByteLength, StreamOf(stream)));
        GC.KeepAlive(destination);
    }

    /// <summary>Frees the device memory (waits for work that uses it).</summary>
    public void Dispose() => _memory.Dispose();

    /// <summary>The raw stream of an optional handle (0: the default stream).</summary>
    internal static nint StreamOf(CudaStreamHandle? stream) => stream is null ? 0 : stream.DangerousGetHandle();

    private void RequireFits(long bytes, string what)
    {
        if (bytes > ByteLength)
            throw new ArgumentException($"cuda {what}: {bytes} bytes do not fit a device buffer of {ByteLength} bytes");
    }
}
