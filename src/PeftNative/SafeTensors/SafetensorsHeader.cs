namespace PeftNative.SafeTensors;

/// <summary>
/// A parsed and fully validated safetensors header: the 8-byte little-endian header length, the
/// JSON header, and the tensor entries it declares, checked against the file's length.
/// (Contract stub: implemented by the reader work.)
/// </summary>
public sealed class SafetensorsHeader
{
    /// <summary>Largest header accepted, in bytes (the reference implementation's limit).</summary>
    public const long MaxHeaderBytes = 100_000_000;

    private SafetensorsHeader(string filePath, long headerLength, IReadOnlyList<SafetensorsTensorInfo> tensors, IReadOnlyDictionary<string, string> metadata)
    {
        FilePath = filePath;
        HeaderLength = headerLength;
        Tensors = tensors;
        Metadata = metadata;
    }

    /// <summary>The file the header came from.</summary>
    public string FilePath { get; }

    /// <summary>Length of the JSON header in bytes (the value of the 8-byte prefix).</summary>
    public long HeaderLength { get; }

    /// <summary>Offset of the data section from the start of the file (8 + HeaderLength).</summary>
    public long DataOffset => 8 + HeaderLength;

    /// <summary>Tensor entries in data-offset order.</summary>
    public IReadOnlyList<SafetensorsTensorInfo> Tensors { get; }

    /// <summary>The <c>__metadata__</c> map, empty when absent.</summary>
    public IReadOnlyDictionary<string, string> Metadata { get; }

    /// <summary>
    /// Parses and validates a header. <paramref name="fileStart"/> holds the first bytes of the
    /// file (at least 8 + header length, or the whole file if shorter); <paramref name="fileLength"/>
    /// is the whole file's length. Throws only <see cref="SafetensorsFormatException"/> for any input.
    /// </summary>
    public static SafetensorsHeader Parse(ReadOnlySpan<byte> fileStart, long fileLength, string filePath) =>
        throw new NotImplementedException("contract stub");
}
