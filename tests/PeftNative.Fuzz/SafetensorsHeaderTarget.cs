using PeftNative.SafeTensors;

namespace PeftNative.Fuzz;

/// <summary>
/// The input is a whole safetensors file. <see cref="SafetensorsHeader.Parse"/> may reject it only
/// with <see cref="SafetensorsFormatException"/>; when it accepts it, the result must keep the
/// promises of the contract (entries inside the file, sizes that match dtype and shape, in
/// data-offset order, no overlap), checked here so an accepted-but-wrong header is a finding too;
/// and it must survive a round trip through <see cref="SafetensorsWriter.Serialize"/>.
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
        RoundTrip(header, input);
    }

    /// <summary>
    /// What the reader accepted, the writer must write, and the reader must read back the same:
    /// names, dtypes, shapes, data bytes and metadata (the tensor order may differ, as the writer sorts).
    /// </summary>
    private static void RoundTrip(SafetensorsHeader header, ReadOnlySpan<byte> input)
    {
        var original = new Dictionary<string, (SafetensorsTensorInfo Info, byte[] Data)>(StringComparer.Ordinal);
        foreach (SafetensorsTensorInfo t in header.Tensors)
        {
            byte[] data = input.Slice(checked((int)(header.DataOffset + t.DataBegin)), checked((int)t.ByteLength)).ToArray();
            Require(original.TryAdd(t.Name, (t, data)), $"tensor '{t.Name}' listed twice");
        }

        byte[] written;
        try
        {
            written = SafetensorsWriter.Serialize(
                original.Values.Select(v => SafetensorsEntry.FromBytes(v.Info.Name, v.Info.DType, v.Info.Shape.ToArray(), v.Data)),
                header.Metadata.Count == 0 ? null : header.Metadata);
        }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException)
        {
            throw new FuzzInvariantException($"safetensors-header: the writer refuses a header the reader accepted: {e.GetType().Name}: {e.Message}");
        }

        SafetensorsHeader again;
        try
        {
            again = SafetensorsHeader.Parse(written, written.Length, FilePath);
        }
        catch (SafetensorsFormatException e)
        {
            throw new FuzzInvariantException($"safetensors-header: the reader refuses what the writer wrote from an accepted file: {e.Message}");
        }
        Require(again.Tensors.Count == original.Count, $"round trip: {again.Tensors.Count} tensors read back, {original.Count} written");
        foreach (SafetensorsTensorInfo t in again.Tensors)
        {
            Require(original.TryGetValue(t.Name, out var o), $"round trip: tensor '{t.Name}' appeared");
            Require(t.DType == o.Info.DType && t.Shape.SequenceEqual(o.Info.Shape),
                $"round trip: tensor '{t.Name}' is {t.DType} [{t.ShapeText}], was {o.Info.DType} [{o.Info.ShapeText}]");
            Require(written.AsSpan(checked((int)(again.DataOffset + t.DataBegin)), checked((int)t.ByteLength)).SequenceEqual(o.Data),
                $"round trip: tensor '{t.Name}' data differs");
        }
        Require(again.Metadata.Count == header.Metadata.Count
                && header.Metadata.All(kv => again.Metadata.TryGetValue(kv.Key, out string? v) && v == kv.Value),
            "round trip: metadata differs");
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
