using System.Buffers.Binary;
using System.IO.MemoryMappedFiles;

namespace PeftNative.Merging;

/// <summary>
/// One safetensors file of the model, mapped read-only for streaming: each tensor (or each chunk
/// of a large one) gets its own short-lived view, unmapped as soon as it has been used. Pages of
/// a view count towards the process's resident memory while it is mapped; unmapping them keeps
/// the merge's resident memory near one tensor however large the model is (the pages stay in
/// the page cache). The header was validated by <see cref="SafeTensors.SafetensorsCollection"/>.
/// </summary>
internal sealed class MappedShard : IDisposable
{
    private readonly MemoryMappedFile _file;

    private MappedShard(string path, MemoryMappedFile file, long dataOffset)
    {
        Path = path;
        _file = file;
        DataOffset = dataOffset;
    }

    /// <summary>The file.</summary>
    public string Path { get; }

    /// <summary>Where the data section starts: 8 + the header's length.</summary>
    public long DataOffset { get; }

    /// <summary>Maps <paramref name="path"/> (whose header is already validated).</summary>
    public static MappedShard Open(string path)
    {
        var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read | FileShare.Delete, bufferSize: 0, FileOptions.SequentialScan);
        try
        {
            Span<byte> prefix = stackalloc byte[8];
            stream.ReadExactly(prefix);
            long dataOffset = 8 + (long)BinaryPrimitives.ReadUInt64LittleEndian(prefix);
            var file = MemoryMappedFile.CreateFromFile(stream, mapName: null, capacity: 0, MemoryMappedFileAccess.Read,
                HandleInheritability.None, leaveOpen: false);
            return new MappedShard(path, file, dataOffset);
        }
        catch
        {
            stream.Dispose();
            throw;
        }
    }

    /// <summary>Maps <paramref name="length"/> bytes of the data section from <paramref name="dataBegin"/> (length &gt; 0).</summary>
    public MappedRange Map(long dataBegin, long length) => new(_file, DataOffset + dataBegin, length);

    /// <inheritdoc />
    public void Dispose() => _file.Dispose();
}

/// <summary>A read-only view of part of a file; unmapped on <see cref="Dispose"/>.</summary>
internal sealed unsafe class MappedRange : IDisposable
{
    private readonly MemoryMappedViewAccessor _view;
    private bool _disposed;

    internal MappedRange(MemoryMappedFile file, long offset, long length)
    {
        _view = file.CreateViewAccessor(offset, length, MemoryMappedFileAccess.Read);
        byte* p = null;
        _view.SafeMemoryMappedViewHandle.AcquirePointer(ref p);
        Pointer = (nint)(p + _view.PointerOffset);
        Length = length;
    }

    /// <summary>Address of the first byte.</summary>
    public nint Pointer { get; }

    /// <summary>Bytes mapped.</summary>
    public long Length { get; }

    /// <summary>The bytes (at most int.MaxValue of them).</summary>
    public ReadOnlySpan<byte> Span => new((void*)Pointer, checked((int)Length));

    /// <inheritdoc />
    public void Dispose()
    {
        if (_disposed)
            return;
        _disposed = true;
        _view.SafeMemoryMappedViewHandle.ReleasePointer();
        _view.Dispose();
    }
}
