namespace PeftNative.Merging;

/// <summary>Byte comparison of large tensors in spans of at most 1 GiB.</summary>
internal static unsafe class TensorBytes
{
    /// <summary>The tensor's bytes as a sequence of spans.</summary>
    public static LongBytes AsBytesLong(this Tensor tensor) => new(tensor.Pointer, tensor.ByteLength);

    /// <summary>A byte range that may exceed int.MaxValue.</summary>
    internal readonly struct LongBytes(nint pointer, long length)
    {
        public bool SequenceEqual(LongBytes other)
        {
            if (length != other.Length)
                return false;
            const int chunk = 1 << 30;
            for (long done = 0; done < length; done += chunk)
            {
                int n = (int)Math.Min(chunk, length - done);
                if (!new ReadOnlySpan<byte>((byte*)pointer + done, n).SequenceEqual(new ReadOnlySpan<byte>((byte*)other.Pointer + done, n)))
                    return false;
            }
            return true;
        }

        public nint Pointer => pointer;

        public long Length => length;
    }
}
