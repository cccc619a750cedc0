namespace PeftNative.SafeTensors;

/// <summary>Fills a tensor's bytes into the destination stream (exactly the declared byte length).</summary>
public delegate void TensorDataWriter(Stream destination, CancellationToken cancellationToken);

/// <summary>
/// One tensor to write: name, dtype, shape, and where its bytes come from. Data is pulled one
/// tensor at a time in file order, so a writer holds at most one tensor's worth of buffers.
/// (Contract stub: implemented by the writer work.)
/// </summary>
public sealed class SafetensorsEntry
{
    private SafetensorsEntry(string name, DType dtype, long[] shape, TensorDataWriter data)
    {
        Name = name;
        DType = dtype;
        Shape = shape;
        Data = data;
    }

    /// <summary>Tensor name (the header key).</summary>
    public string Name { get; }

    /// <summary>Element type.</summary>
    public DType DType { get; }

    /// <summary>Dimensions.</summary>
    public IReadOnlyList<long> Shape { get; }

    /// <summary>Byte length implied by shape and dtype.</summary>
    public long ByteLength => throw new NotImplementedException("contract stub");

    /// <summary>Where the bytes come from.</summary>
    public TensorDataWriter Data { get; }

    /// <summary>A tensor in memory (read when its turn comes; it must stay alive until then).</summary>
    public static SafetensorsEntry FromTensor(string name, Tensor tensor) => throw new NotImplementedException("contract stub");

    /// <summary>Bytes in memory.</summary>
    public static SafetensorsEntry FromBytes(string name, DType dtype, long[] shape, ReadOnlyMemory<byte> data) => throw new NotImplementedException("contract stub");

    /// <summary>Bytes produced on demand.</summary>
    public static SafetensorsEntry FromWriter(string name, DType dtype, long[] shape, TensorDataWriter data) => new(name, dtype, shape, data);
}

/// <summary>Options for <see cref="SafetensorsWriter"/>.</summary>
public sealed record SafetensorsWriteOptions
{
    /// <summary>Split into shards of at most this many data bytes (a larger single tensor gets a shard of its own); null = one file.</summary>
    public long? MaxShardBytes { get; init; }

    /// <summary>fsync files (and the directory) before the rename that publishes them.</summary>
    public bool Durable { get; init; } = true;
}

/// <summary>What a write produced.</summary>
public sealed record SafetensorsWriteResult(IReadOnlyList<string> Files, string? IndexFile, long TotalDataBytes);

/// <summary>
/// Writes safetensors files the way the reference implementation lays them out (tensors ordered by
/// dtype rank descending then name, compact JSON header padded with spaces to a multiple of 8),
/// streaming one tensor at a time, atomically (temporary file in the target directory, flush,
/// rename; nothing left behind on failure or cancellation).
/// (Contract stub: implemented by the writer work.)
/// </summary>
public static class SafetensorsWriter
{
    /// <summary>
    /// Writes <paramref name="tensors"/> to <paramref name="path"/>. With
    /// <see cref="SafetensorsWriteOptions.MaxShardBytes"/>, writes <c>stem-00001-of-0000N.safetensors</c>
    /// shards beside <paramref name="path"/> and <c>path + ".index.json"</c> (Hugging Face layout) instead.
    /// </summary>
    public static SafetensorsWriteResult Write(string path, IEnumerable<SafetensorsEntry> tensors,
        IReadOnlyDictionary<string, string>? metadata = null, SafetensorsWriteOptions? options = null,
        CancellationToken cancellationToken = default) => throw new NotImplementedException("contract stub");
}
