using System.Buffers.Binary;

namespace PeftNative.SafeTensors;

/// <summary>
/// A parsed and fully validated safetensors header: the 8-byte little-endian header length, the
/// JSON header, and the tensor entries it declares, checked against the file's length.
/// </summary>
/// <remarks>
/// The rules are those of the reference implementation (huggingface/safetensors), made stricter
/// where it is lenient, so that whatever is accepted here is accepted there:
/// the header is a UTF-8 JSON object that starts with '{' (trailing whitespace is padding);
/// no comments, trailing commas or duplicate keys; every entry other than <c>__metadata__</c> is an
/// object with exactly <c>dtype</c>, <c>shape</c> and <c>data_offsets</c> (unknown keys are refused;
/// the reference ignores them); dtype names are case-sensitive; dimensions and offsets are plain
/// non-negative integers; each tensor's byte length is its element count times its dtype's size;
/// the tensors tile the data section exactly (no overlap, no hole, nothing after the last one);
/// <c>__metadata__</c> maps strings to strings; tensor names are not empty.
/// </remarks>
public sealed partial class SafetensorsHeader
{
    /// <summary>Largest header accepted, in bytes (the reference implementation's limit).</summary>
    public const long MaxHeaderBytes = 100_000_000;

    /// <summary>Most dimensions a tensor may have (NumPy's limit; the format sets none).</summary>
    public const int MaxRank = 64;

    /// <summary>Size of the little-endian u64 that precedes the JSON header.</summary>
    public const int PrefixBytes = 8;

    private SafetensorsHeader(string filePath, long headerLength, long fileLength,
        IReadOnlyList<SafetensorsTensorInfo> tensors, IReadOnlyDictionary<string, string> metadata)
    {
        FilePath = filePath;
        HeaderLength = headerLength;
        FileLength = fileLength;
        Tensors = tensors;
        Metadata = metadata;
    }

    /// <summary>The file the header came from.</summary>
    public string FilePath { get; }

    /// <summary>Length of the JSON header in bytes (the value of the 8-byte prefix).</summary>
    public long HeaderLength { get; }

    /// <summary>Offset of the data section from the start of the file (8 + HeaderLength).</summary>
    public long DataOffset => PrefixBytes + HeaderLength;

    /// <summary>Length of the whole file the header was checked against.</summary>
    public long FileLength { get; }

    /// <summary>Length of the data section (FileLength - DataOffset); the tensors cover all of it.</summary>
    public long DataLength => FileLength - DataOffset;

    /// <summary>Tensor entries in data-offset order (ties, which only empty tensors can make, by name).</summary>
    public IReadOnlyList<SafetensorsTensorInfo> Tensors { get; }

    /// <summary>The <c>__metadata__</c> map, empty when absent.</summary>
    public IReadOnlyDictionary<string, string> Metadata { get; }

    /// <summary>
    /// Parses and validates a header. <paramref name="fileStart"/> holds the first bytes of the
    /// file (at least 8 + header length, or the whole file if shorter); <paramref name="fileLength"/>
    /// is the whole file's length. Throws only <see cref="SafetensorsFormatException"/> for any input.
    /// </summary>
    /// <exception cref="SafetensorsFormatException">The bytes break a rule (see remarks on the class), or
    /// <paramref name="fileStart"/> holds fewer bytes than the header needs, or more than <paramref name="fileLength"/>.</exception>
    /// <exception cref="ArgumentNullException"><paramref name="filePath"/> is null.</exception>
    public static SafetensorsHeader Parse(ReadOnlySpan<byte> fileStart, long fileLength, string filePath)
    {
        ArgumentNullException.ThrowIfNull(filePath);
        if (fileStart.Length > fileLength)
            throw Fail(filePath, null, $"{fileStart.Length} bytes were given as the start of a file of {fileLength} bytes");
        long headerLength = ReadHeaderLength(fileStart, fileLength, filePath);
        long needed = PrefixBytes + headerLength;
        if (fileStart.Length < needed)
            throw Fail(filePath, null, $"only {fileStart.Length} of the file's first {needed} bytes (prefix and header) were given");
        long dataLength = fileLength - needed;
        var json = fileStart.Slice(PrefixBytes, (int)headerLength);
        var (tensors, metadata) = ParseJson(json, dataLength, filePath);
        CheckLayout(tensors, dataLength, filePath);
        return new SafetensorsHeader(filePath, headerLength, fileLength, tensors, metadata);
    }

    /// <summary>
    /// Checks the 8-byte prefix against the file's length and returns the header length it declares,
    /// so a reader can size its one read of the header before calling <see cref="Parse"/>.
    /// <paramref name="prefix"/> may be shorter than 8 bytes only when the file is.
    /// </summary>
    /// <exception cref="SafetensorsFormatException">The file is too short, or the length is 0, over
    /// <see cref="MaxHeaderBytes"/> or past the end of the file.</exception>
    internal static long ReadHeaderLength(ReadOnlySpan<byte> prefix, long fileLength, string filePath)
    {
        if (fileLength < 0)
            throw Fail(filePath, null, $"file length {fileLength} is negative");
        if (fileLength < PrefixBytes)
            throw Fail(filePath, null, $"file is {fileLength} bytes, shorter than the 8-byte header length prefix");
        if (prefix.Length < PrefixBytes)
            throw Fail(filePath, null, $"only {prefix.Length} of the 8 prefix bytes were given");
        ulong declared = BinaryPrimitives.ReadUInt64LittleEndian(prefix);
        if (declared > MaxHeaderBytes)
            throw Fail(filePath, null, $"header length {declared} exceeds the limit of {MaxHeaderBytes} bytes");
        long headerLength = (long)declared;
        if (headerLength > fileLength - PrefixBytes)
            throw Fail(filePath, null, $"header length {headerLength} runs past the end of the file ({fileLength - PrefixBytes} bytes follow the prefix)");
        if (headerLength == 0)
            throw Fail(filePath, null, "header length is 0 (the header must be a JSON object)");
        return headerLength;
    }

    /// <summary>
    /// Sorts the entries by offset and checks that they tile the data section: each starts where the
    /// previous ended, and the last ends at the end of the section (the reference implementation's
    /// InvalidOffset and MetadataIncompleteBuffer rules). Empty tensors may sit at any boundary.
    /// </summary>
    private static void CheckLayout(List<SafetensorsTensorInfo> tensors, long dataLength, string filePath)
    {
        tensors.Sort(static (a, b) =>
        {
            int c = a.DataBegin.CompareTo(b.DataBegin);
            if (c == 0)
                c = a.DataEnd.CompareTo(b.DataEnd);
            return c != 0 ? c : string.CompareOrdinal(a.Name, b.Name);
        });
        long cursor = 0;
        SafetensorsTensorInfo? previous = null;
        foreach (var t in tensors)
        {
            if (t.DataBegin < cursor)
            {
                // Sorted by begin, so the tensor ending at the cursor is non-empty and holds DataBegin.
                var p = previous!;
                string problem = t.ByteLength == 0
                    ? $"empty tensor at offset {t.DataBegin} lies inside tensor {StrictJson.Quote(p.Name)} [{p.DataBegin}, {p.DataEnd})"
                    : $"bytes [{t.DataBegin}, {t.DataEnd}) overlap tensor {StrictJson.Quote(p.Name)} [{p.DataBegin}, {p.DataEnd})";
                throw Fail(filePath, t.Name, problem);
            }
            if (t.DataBegin > cursor)
                throw Fail(filePath, t.Name, $"{t.DataBegin - cursor} unused bytes before this tensor (data section bytes [{cursor}, {t.DataBegin}) belong to no tensor; tensors must be packed)");
            cursor = t.DataEnd;
            previous = t;
        }
        if (cursor != dataLength)
            throw Fail(filePath, null, $"{dataLength - cursor} bytes at the end of the data section belong to no tensor (tensors end at {cursor}, the section is {dataLength} bytes)");
    }

    private static SafetensorsFormatException Fail(string filePath, string? tensorName, string problem) =>
        new(filePath, tensorName is null ? null : ShortName(tensorName), problem);

    // Names can be up to the header's size; keep messages readable.
    private static string ShortName(string name) => name.Length <= 256 ? name : name[..256] + $"... ({name.Length} chars)";
}
