using PeftNative.SafeTensors;

namespace PeftNative.Fuzz;

/// <summary>
/// The input is a whole safetensors file. <see cref="SafetensorsHeader.Parse"/> may reject it only
/// with <see cref="SafetensorsFormatException"/>; when it accepts it, the result must keep the
/// promises of the contract (entries inside the file, sizes that match dtype and shape, in
/// data-offset order, no overlap), checked here so an accepted-but-wrong header is a finding too.
/// </summary>
internal static class SafetensorsHeaderTarget
{
    private const string FilePath = "fuzz-input";

    public static void Run(ReadOnlySpan<byte> input)
    {
        SafetensorsHeader header;
        try
        {
            header = SafetensorsHeader.Parse(input, input.Length, FilePath);
        }
        catch (SafetensorsFormatException)
        {
            return;
        }
        Check(header, input.Length);
    }

    private static void Check(SafetensorsHeader header, long fileLength)
    {
        Require(header.FilePath == FilePath, $"FilePath is '{header.FilePath}'");
        Require(header.HeaderLength >= 0 && header.HeaderLength <= SafetensorsHeader.MaxHeaderBytes,
            $"HeaderLength {header.HeaderLength} out of range");
        Require(header.DataOffset <= fileLength, $"DataOffset {header.DataOffset} past the file's end {fileLength}");
        long dataLength = fileLength - header.DataOffset;

        long previousEnd = 0;
        foreach (SafetensorsTensorInfo t in header.Tensors)
        {
            Require(t is not null, "null tensor entry");
            string where = $"tensor '{t!.Name}'";
            Require(t.Name is not null, "tensor with a null name");
            Require(Enum.IsDefined(t.DType), $"{where}: undefined dtype {(int)t.DType}");
            Require(t.FilePath == FilePath, $"{where}: FilePath is '{t.FilePath}'");
            Require(t.Shape is not null, $"{where}: null shape");
            foreach (long d in t.Shape!)
                Require(d >= 0, $"{where}: negative dimension {d}");
            Require(t.DataBegin >= 0 && t.DataBegin <= t.DataEnd && t.DataEnd <= dataLength,
                $"{where}: data [{t.DataBegin}, {t.DataEnd}) outside the data section of {dataLength} bytes");
            Require(t.DataBegin >= previousEnd, $"{where}: begins at {t.DataBegin}, before the previous entry's end {previousEnd} (unordered or overlapping)");
            previousEnd = t.DataEnd;

            // ElementCount and ByteLengthOf throw on overflow or a sub-byte count that ends mid-byte:
            // a header that allows either should have been rejected, so report it as a broken invariant.
            long count, expectedBytes;
            try
            {
                count = t.ElementCount;
                expectedBytes = t.DType.ByteLengthOf(count);
            }
            catch (Exception e) when (e is OverflowException or ArgumentException)
            {
                throw new FuzzInvariantException($"{where}: shape [{string.Join(',', t.Shape)}] of {t.DType} accepted but its size cannot be computed: {e.Message}");
            }
            Require(t.ByteLength == expectedBytes, $"{where}: {t.ByteLength} bytes for {count} elements of {t.DType} ({expectedBytes} expected)");

            // Touch the text forms the CLI and error messages use.
            _ = t.ShapeText;
            _ = t.DType.SafetensorsName();
        }

        Require(header.Metadata is not null, "null Metadata");
        foreach (KeyValuePair<string, string> kv in header.Metadata!)
            Require(kv.Key is not null && kv.Value is not null, "null metadata key or value");
    }

    private static void Require(bool condition, string problem)
    {
        if (!condition)
            throw new FuzzInvariantException("safetensors-header: " + problem);
    }
}
