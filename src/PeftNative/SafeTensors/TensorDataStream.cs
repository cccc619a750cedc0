namespace PeftNative.SafeTensors;

/// <summary>
/// The stream a <see cref="TensorDataWriter"/> writes one tensor into: write-only, forwards to the
/// file, counts the bytes and refuses any past the tensor's declared length. Large writes go
/// through in chunks with a cancellation check between them. It is closed when the callback
/// returns; a callback that keeps it and writes later gets <see cref="ObjectDisposedException"/>.
/// </summary>
internal sealed class TensorDataStream : Stream
{
    /// <summary>Largest piece handed to the file in one call: also the cancellation granularity.</summary>
    public const int ChunkBytes = 16 << 20;

    private readonly Stream _file;
    private readonly string _name;
    private readonly long _declared;
    private readonly CancellationToken _cancellationToken;
    private long _written;
    private bool _overrun;
    private bool _closed;

    /// <summary>A stream for tensor <paramref name="name"/> of <paramref name="declared"/> bytes.</summary>
    public TensorDataStream(Stream file, string name, long declared, CancellationToken cancellationToken)
    {
        _file = file;
        _name = name;
        _declared = declared;
        _cancellationToken = cancellationToken;
    }

    /// <summary>Bytes written so far.</summary>
    public long Written => _written;

    /// <inheritdoc />
    public override bool CanRead => false;

    /// <inheritdoc />
    public override bool CanSeek => false;

    /// <inheritdoc />
    public override bool CanWrite => !_closed;

    /// <summary>The declared byte length of the tensor.</summary>
    public override long Length => _declared;

    /// <summary>Bytes written so far; setting it is not supported.</summary>
    public override long Position
    {
        get => _written;
        set => throw new NotSupportedException("tensor data is written front to back; the stream cannot seek");
    }

    /// <summary>
    /// Closes the stream after the callback and checks the count.
    /// </summary>
    /// <exception cref="InvalidOperationException">The callback wrote fewer bytes than declared, or tried to write more (even if it swallowed the exception).</exception>
    public void Complete()
    {
        _closed = true;
        if (_overrun)
            throw new InvalidOperationException($"tensor '{_name}': the data writer tried to write more than the declared {_declared} bytes");
        if (_written != _declared)
            throw new InvalidOperationException($"tensor '{_name}': the data writer wrote {_written} bytes, the shape and dtype declare {_declared}");
    }

    /// <inheritdoc />
    public override void Write(byte[] buffer, int offset, int count)
    {
        ValidateBufferArguments(buffer, offset, count);
        Write(buffer.AsSpan(offset, count));
    }

    /// <inheritdoc />
    public override void Write(ReadOnlySpan<byte> buffer)
    {
        ObjectDisposedException.ThrowIf(_closed, this);
        if (buffer.Length > _declared - _written)
        {
            _overrun = true;
            throw new InvalidOperationException($"tensor '{_name}': the data writer wrote past the declared {_declared} bytes ({_written} written, {buffer.Length} more offered)");
        }
        while (!buffer.IsEmpty)
        {
            _cancellationToken.ThrowIfCancellationRequested();
            int n = Math.Min(buffer.Length, ChunkBytes);
            _file.Write(buffer[..n]);
            _written += n;
            buffer = buffer[n..];
        }
    }

    /// <inheritdoc />
    public override void WriteByte(byte value)
    {
        ReadOnlySpan<byte> one = [value];
        Write(one);
    }

    /// <inheritdoc />
    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
    {
        ValidateBufferArguments(buffer, offset, count);
        return WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();
    }

    /// <inheritdoc />
    public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        // The file is written synchronously (the callback is synchronous too); this keeps async callers correct.
        if (cancellationToken.IsCancellationRequested)
            return ValueTask.FromCanceled(cancellationToken);
        try
        {
            Write(buffer.Span);
            return ValueTask.CompletedTask;
        }
        catch (Exception e)
        {
            return ValueTask.FromException(e);
        }
    }

    /// <summary>Does nothing: the writer flushes the file when it is complete.</summary>
    public override void Flush()
    {
    }

    /// <inheritdoc />
    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException("the tensor data stream is write-only");

    /// <inheritdoc />
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException("tensor data is written front to back; the stream cannot seek");

    /// <inheritdoc />
    public override void SetLength(long value) => throw new NotSupportedException("the length of a tensor is fixed by its shape and dtype");

    /// <summary>Closes the stream (the file stays open: it belongs to the writer).</summary>
    protected override void Dispose(bool disposing)
    {
        _closed = true;
        base.Dispose(disposing);
    }
}
