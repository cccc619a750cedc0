using System.Buffers.Binary;

namespace PeftNative.SafeTensors;

/// <summary>
/// Fills a tensor's bytes into the destination stream: exactly the declared byte length, front to
/// back, in as many writes as it likes. The stream refuses bytes past the declared length and is
/// closed when the callback returns; <paramref name="cancellationToken"/> is the one given to
/// <see cref="SafetensorsWriter.Write"/> (the stream also checks it between chunks).
/// </summary>
public delegate void TensorDataWriter(Stream destination, CancellationToken cancellationToken);

/// <summary>
/// One tensor to write: name, dtype, shape, and where its bytes come from. Data is pulled one
/// tensor at a time in file order, so a writer holds at most one tensor's worth of buffers.
/// Every factory checks the declaration: a bad one never reaches a file.
/// </summary>
public sealed class SafetensorsEntry
{
    private SafetensorsEntry(string name, DType dtype, long[] shape, TensorDataWriter data)
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(shape);
        ArgumentNullException.ThrowIfNull(data);
        if (name == "__metadata__")
            throw new ArgumentException("a tensor cannot be named '__metadata__' (the header key reserved for the metadata map)", nameof(name));
        if (!IsWellFormed(name))
            throw new ArgumentException($"tensor '{name}': the name contains a lone UTF-16 surrogate (not encodable as UTF-8)", nameof(name));
        if (!Enum.IsDefined(dtype))
            throw new ArgumentException($"tensor '{name}': unknown dtype {(int)dtype}", nameof(dtype));
        long count = 1;
        try
        {
            foreach (long d in shape)
            {
                if (d < 0)
                    throw new ArgumentException($"tensor '{name}': shape [{string.Join(", ", shape)}] has a negative dimension", nameof(shape));
                count = checked(count * d);
            }
            ByteLength = dtype.ByteLengthOf(count);
        }
        catch (OverflowException)
        {
            throw new ArgumentException($"tensor '{name}': shape [{string.Join(", ", shape)}] of {dtype.SafetensorsName()} overflows a 64-bit byte size", nameof(shape));
        }
        catch (ArgumentException e) when (e.ParamName == "elementCount")
        {
            throw new ArgumentException($"tensor '{name}': {count} elements of {dtype.SafetensorsName()} ({dtype.BitsOf()} bits each) do not end on a byte boundary", nameof(shape), e);
        }
        Name = name;
        DType = dtype;
        Shape = Array.AsReadOnly((long[])shape.Clone());
        Data = data;
    }

    /// <summary>Tensor name (the header key).</summary>
    public string Name { get; }

    /// <summary>Element type.</summary>
    public DType DType { get; }

    /// <summary>Dimensions (a copy of what the factory was given).</summary>
    public IReadOnlyList<long> Shape { get; }

    /// <summary>Byte length implied by shape and dtype: product of the dimensions × bits per element / 8.</summary>
    public long ByteLength { get; }

    /// <summary>Where the bytes come from.</summary>
    public TensorDataWriter Data { get; }

    /// <summary>
    /// A tensor in memory, written straight from its memory when its turn comes (no copy); it must
    /// stay alive and unchanged until <see cref="SafetensorsWriter.Write"/> returns.
    /// </summary>
    /// <exception cref="ArgumentNullException"><paramref name="name"/> or <paramref name="tensor"/> is null.</exception>
    /// <exception cref="ArgumentException">The name is '__metadata__' or not encodable as UTF-8.</exception>
    public static SafetensorsEntry FromTensor(string name, Tensor tensor)
    {
        ArgumentNullException.ThrowIfNull(tensor);
        return new SafetensorsEntry(name, tensor.DType, tensor.Shape.ToArray(), (destination, cancellationToken) =>
            WriteMemory(destination, tensor.Pointer, tensor.ByteLength, cancellationToken));
    }

    /// <summary>Bytes in memory (little-endian, row-major), written without a copy; they must stay unchanged until the write returns.</summary>
    /// <exception cref="ArgumentNullException"><paramref name="name"/> or <paramref name="shape"/> is null.</exception>
    /// <exception cref="ArgumentException">A bad name or shape (see <see cref="FromWriter"/>), or <paramref name="data"/> is not exactly the byte length the shape and dtype imply.</exception>
    public static SafetensorsEntry FromBytes(string name, DType dtype, long[] shape, ReadOnlyMemory<byte> data)
    {
        var entry = new SafetensorsEntry(name, dtype, shape, (destination, _) => destination.Write(data.Span));
        if (data.Length != entry.ByteLength)
            throw new ArgumentException($"tensor '{name}': {data.Length} bytes given, shape [{string.Join(", ", shape)}] of {dtype.SafetensorsName()} needs {entry.ByteLength}", nameof(data));
        return entry;
    }

    /// <summary>Bytes produced on demand by <paramref name="data"/>, called once, when the tensor's turn comes.</summary>
    /// <exception cref="ArgumentNullException">A null argument.</exception>
    /// <exception cref="ArgumentException">The name is '__metadata__' or not encodable as UTF-8; the dtype is unknown; a
    /// dimension is negative; the byte size overflows; a sub-byte dtype's element count does not end on a byte boundary.</exception>
    public static SafetensorsEntry FromWriter(string name, DType dtype, long[] shape, TensorDataWriter data) => new(name, dtype, shape, data);

    /// <inheritdoc />
    public override string ToString() => $"{Name} ({DType.SafetensorsName()} [{string.Join(", ", Shape)}], {ByteLength} bytes)";

    /// <summary>True when <paramref name="text"/> has no lone surrogate (so UTF-8 can encode it).</summary>
    internal static bool IsWellFormed(string text)
    {
        for (int i = 0; i < text.Length; i++)
        {
            char c = text[i];
            if (char.IsHighSurrogate(c) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]))
                i++;
            else if (char.IsSurrogate(c))
                return false;
        }
        return true;
    }

    private static unsafe void WriteMemory(Stream destination, nint pointer, long length, CancellationToken cancellationToken)
    {
        const int maxSpan = 1 << 30;
        for (long done = 0; done < length;)
        {
            cancellationToken.ThrowIfCancellationRequested();
            int n = (int)Math.Min(length - done, maxSpan);
            destination.Write(new ReadOnlySpan<byte>((byte*)pointer + done, n));
            done += n;
        }
    }
}

/// <summary>Options for <see cref="SafetensorsWriter"/>.</summary>
public sealed record SafetensorsWriteOptions
{
    /// <summary>
    /// Split into shards of at most this many data bytes (a larger single tensor gets a shard of its
    /// own); null = one file. When everything fits in one shard, a single file is written anyway.
    /// </summary>
    public long? MaxShardBytes { get; init; }

    /// <summary>fsync each file before the rename that publishes it, and the directory after (default true; false leaves both to the page cache).</summary>
    public bool Durable { get; init; } = true;

    /// <summary>
    /// After publishing, delete the files of an earlier checkpoint at the same target that this write
    /// did not overwrite and that loaders would otherwise pick up: <c>{stem}-NNNNN-of-NNNNN{ext}</c>
    /// shards that are not this write's, the single file when shards were written (transformers
    /// tries it before the index), the index when a single file was written. Hugging Face's writers
    /// clean the same files. Default true.
    /// </summary>
    public bool RemoveStaleFiles { get; init; } = true;
}

/// <summary>What a write produced.</summary>
/// <param name="Files">Full paths of the safetensors files written, in order (one, or the shards).</param>
/// <param name="IndexFile">Full path of the index, or null when a single file was written.</param>
/// <param name="TotalDataBytes">Sum of the tensors' data bytes (the index's total_size).</param>
public sealed record SafetensorsWriteResult(IReadOnlyList<string> Files, string? IndexFile, long TotalDataBytes);

/// <summary>
/// Writes safetensors files the way the reference implementation lays them out, streaming one
/// tensor at a time, atomically.
/// <list type="bullet">
/// <item>Layout (huggingface/safetensors <c>serialize_to_file</c>): an 8-byte little-endian header
/// length N, N bytes of compact JSON padded with spaces to a multiple of 8, then the data. Tensors are
/// ordered by dtype, descending in the reference's Dtype enum order (<see cref="DTypeInfo.SafetensorsRank"/>),
/// then by name (code point order, as Rust compares strings), laid out contiguously from offset 0.
/// <c>__metadata__</c> comes first when <c>metadata</c> is not null (an empty map is written as
/// <c>{}</c>), keys sorted. For the same tensors and metadata the bytes equal the reference's.</item>
/// <item>Memory: the whole header is computed from the declarations first; then each entry's data is
/// pulled in file order into a 1 MiB-buffered file stream; large writes bypass the buffer, so
/// in-memory tensors are written without a copy.</item>
/// <item>Atomic: every file goes to a temporary <c>.{name}.{random}.tmp</c> in the target directory,
/// is flushed (fsynced when <see cref="SafetensorsWriteOptions.Durable"/>), and is renamed over its
/// final name only when all of them are complete. On any exception or cancellation every temporary
/// file is deleted and existing files are untouched. The rename replaces the directory entry, not the
/// file: a reader that has the old file open or memory-mapped keeps a valid view of the old bytes
/// (Unix), so writing over a checkpoint that is being read is safe there.</item>
/// <item>Sharding (<see cref="SafetensorsWriteOptions.MaxShardBytes"/>): see <see cref="Write"/>.</item>
/// </list>
/// </summary>
public static class SafetensorsWriter
{
    /// <summary>
    /// Writes <paramref name="tensors"/> to <paramref name="path"/>. With
    /// <see cref="SafetensorsWriteOptions.MaxShardBytes"/>, when the data does not fit one shard, writes
    /// <c>stem-00001-of-0000N.safetensors</c> shards beside <paramref name="path"/> (each with the same
    /// <c>__metadata__</c>) and <c>path + ".index.json"</c> in the Hugging Face layout
    /// (<c>{"metadata": {"total_size": N}, "weight_map": {...}}</c>, keys sorted, indent 2) instead; the
    /// shards and the index are published together. Shards are contiguous runs of the file order,
    /// cut greedily at the limit.
    /// </summary>
    /// <param name="path">Target file; its directory must exist.</param>
    /// <param name="tensors">The tensors, in any order (they are sorted).</param>
    /// <param name="metadata">The <c>__metadata__</c> string map; null writes none.</param>
    /// <param name="options">Sharding, durability and cleanup; null = defaults.</param>
    /// <param name="cancellationToken">Checked between tensors and between chunks of a tensor; cancelling leaves no file behind.</param>
    /// <returns>The files written.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="path"/> or <paramref name="tensors"/> is null.</exception>
    /// <exception cref="ArgumentException">An empty path or a directory; duplicate tensor names; a null metadata value;
    /// sizes that overflow; a header over 100,000,000 bytes.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><see cref="SafetensorsWriteOptions.MaxShardBytes"/> is not positive.</exception>
    /// <exception cref="DirectoryNotFoundException">The target directory does not exist.</exception>
    /// <exception cref="InvalidOperationException">A data writer wrote fewer or more bytes than its tensor declares (the message names it).</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled before the files were published.</exception>
    /// <exception cref="IOException">Writing or publishing failed (nothing new is left behind), or the files were
    /// published but a stale file of an earlier checkpoint could not be removed (the message says which).</exception>
    public static SafetensorsWriteResult Write(string path, IEnumerable<SafetensorsEntry> tensors,
        IReadOnlyDictionary<string, string>? metadata = null, SafetensorsWriteOptions? options = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentNullException.ThrowIfNull(tensors);
        options ??= new SafetensorsWriteOptions();
        if (options.MaxShardBytes is { } max)
            ArgumentOutOfRangeException.ThrowIfNegativeOrZero(max, nameof(options) + "." + nameof(SafetensorsWriteOptions.MaxShardBytes));
        string fullPath = Path.GetFullPath(path);
        if (Directory.Exists(fullPath))
            throw new ArgumentException($"{fullPath} is a directory; name the file to write (e.g. {Path.Combine(fullPath, "model.safetensors")})", nameof(path));
        string directory = Path.GetDirectoryName(fullPath)
            ?? throw new ArgumentException($"{fullPath} has no directory", nameof(path));
        if (!Directory.Exists(directory))
            throw new DirectoryNotFoundException($"cannot write {fullPath}: directory {directory} does not exist");

        var plan = SafetensorsShardPlan.Create(fullPath, tensors, metadata, options.MaxShardBytes);
        cancellationToken.ThrowIfCancellationRequested();

        using (var files = new AtomicFileSet(directory, options.Durable))
        {
            foreach (var shard in plan.Shards)
                WriteShard(files, shard, cancellationToken);
            if (plan.BuildIndex() is { } index)
                files.Add(plan.IndexPath!, index);
            cancellationToken.ThrowIfCancellationRequested(); // last chance: past here the files are published
            files.Commit();
        }

        if (options.RemoveStaleFiles)
        {
            foreach (var stale in plan.StaleFiles())
            {
                try
                {
                    File.Delete(stale);
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    throw new IOException($"wrote {string.Join(", ", plan.Shards.Select(s => s.Path))}, but could not remove the stale {stale}, which loaders may read instead: {e.Message}", e);
                }
            }
        }
        return new SafetensorsWriteResult(plan.Shards.Select(s => s.Path).ToArray(), plan.IndexPath, plan.TotalDataBytes);
    }

    /// <summary>
    /// The bytes <see cref="Write"/> would put in a single file, in memory (for small files and tests;
    /// the reference's <c>serialize</c>).
    /// </summary>
    /// <exception cref="ArgumentException">As for <see cref="Write"/>.</exception>
    /// <exception cref="InvalidOperationException">A data writer wrote the wrong number of bytes.</exception>
    public static byte[] Serialize(IEnumerable<SafetensorsEntry> tensors, IReadOnlyDictionary<string, string>? metadata = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(tensors);
        var plan = SafetensorsShardPlan.Create(Path.GetFullPath("in-memory.safetensors"), tensors, metadata, maxShardBytes: null);
        var shard = plan.Shards[0];
        if (shard.FileBytes > Array.MaxLength)
            throw new ArgumentException($"{shard.FileBytes} bytes do not fit in one array; use Write", nameof(tensors));
        var memory = new MemoryStream((int)shard.FileBytes);
        WriteContent(memory, shard, cancellationToken);
        return memory.ToArray();
    }

    private static void WriteShard(AtomicFileSet files, SafetensorsShard shard, CancellationToken cancellationToken)
    {
        using var file = files.Create(shard.Path);
        WriteContent(file, shard, cancellationToken);
        if (file.Position != shard.FileBytes)
            throw new IOException($"{shard.Path}: wrote {file.Position} bytes, expected {shard.FileBytes}");
        files.Finish(file);
    }

    private static void WriteContent(Stream file, SafetensorsShard shard, CancellationToken cancellationToken)
    {
        Span<byte> prefix = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(prefix, (ulong)shard.Header.Length);
        file.Write(prefix);
        file.Write(shard.Header);
        foreach (var entry in shard.Entries)
        {
            cancellationToken.ThrowIfCancellationRequested();
            using var stream = new TensorDataStream(file, entry.Name, entry.ByteLength, cancellationToken);
            entry.Data(stream, cancellationToken);
            stream.Complete();
        }
    }
}
