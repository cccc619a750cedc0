using System.IO.MemoryMappedFiles;

namespace PeftNative.SafeTensors;

/// <summary>
/// A whole file mapped read-only, with its base address pinned for the mapping's lifetime.
/// Mapping costs address space, not reads: pages are faulted in only when a view touches them.
/// </summary>
/// <remarks>
/// There is deliberately no finalizer: tensor views hold raw pointers and do not keep this object
/// alive, so unmapping behind the caller's back (because the file object became unreachable while a
/// view is still used) would turn a leak into a crash. Not disposing keeps the mapping until exit.
/// If another process truncates the file while it is mapped, touching the lost pages faults
/// (SIGBUS); the format gives no way to guard against that, as for any memory-mapped reader.
/// </remarks>
internal sealed unsafe class ReadOnlyFileMapping : IDisposable
{
    private readonly MemoryMappedFile _file;
    private readonly MemoryMappedViewAccessor _view;
    private readonly byte* _base;
    private int _disposed;

    private ReadOnlyFileMapping(MemoryMappedFile file, MemoryMappedViewAccessor view, byte* baseAddress, long length)
    {
        _file = file;
        _view = view;
        _base = baseAddress;
        Length = length;
    }

    /// <summary>True once unmapped.</summary>
    public bool IsDisposed => Volatile.Read(ref _disposed) != 0;

    /// <summary>Bytes mapped (the file's length when it was mapped).</summary>
    public long Length { get; }

    /// <summary>
    /// Maps the whole of <paramref name="stream"/> (which must be non-empty) and takes ownership of it.
    /// </summary>
    public static ReadOnlyFileMapping Create(FileStream stream)
    {
        long length = stream.Length;
        var file = MemoryMappedFile.CreateFromFile(stream, mapName: null, capacity: 0,
            MemoryMappedFileAccess.Read, HandleInheritability.None, leaveOpen: false);
        MemoryMappedViewAccessor? view = null;
        try
        {
            view = file.CreateViewAccessor(0, 0, MemoryMappedFileAccess.Read);
            byte* p = null;
            view.SafeMemoryMappedViewHandle.AcquirePointer(ref p);
            return new ReadOnlyFileMapping(file, view, p + view.PointerOffset, length);
        }
        catch
        {
            view?.Dispose();
            file.Dispose();
            throw;
        }
    }

    /// <summary>The address of byte <paramref name="offset"/> (0 &lt;= offset &lt;= Length; Length gives the end, for empty views).</summary>
    public nint AddressOf(long offset)
    {
        ObjectDisposedException.ThrowIf(IsDisposed, this);
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(offset, Length);
        return (nint)(_base + offset);
    }

    /// <summary>Unmaps; addresses handed out before are invalid afterwards.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
            return;
        _view.SafeMemoryMappedViewHandle.ReleasePointer();
        _view.Dispose();
        _file.Dispose();
    }
}
