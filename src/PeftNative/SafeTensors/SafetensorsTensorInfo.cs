namespace PeftNative.SafeTensors;

/// <summary>
/// One tensor's header entry: name, dtype, shape and where its bytes lie in the data section
/// of <see cref="FilePath"/> (offsets relative to the start of the data section, as in the header).
/// </summary>
public sealed record SafetensorsTensorInfo(string Name, DType DType, IReadOnlyList<long> Shape, long DataBegin, long DataEnd, string FilePath)
{
    /// <summary>Bytes of data (DataEnd - DataBegin, equal to the shape's element count times the dtype's size).</summary>
    public long ByteLength => DataEnd - DataBegin;

    /// <summary>Product of the dimensions (1 for a scalar).</summary>
    public long ElementCount
    {
        get
        {
            long n = 1;
            foreach (long d in Shape)
                n = checked(n * d);
            return n;
        }
    }

    /// <summary>Shape as text, e.g. "4096x4096" ("scalar" for rank 0).</summary>
    public string ShapeText => Shape.Count == 0 ? "scalar" : string.Join('x', Shape);
}
