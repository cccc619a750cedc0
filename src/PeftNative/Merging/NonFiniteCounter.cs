using System.Numerics;
using System.Runtime.InteropServices;

namespace PeftNative.Merging;

/// <summary>
/// Counts NaN and ±Inf in a float tensor by their bit patterns (all exponent bits set), with
/// vectors: the safe-merge check runs over every touched tensor, so it must cost about one read.
/// </summary>
internal static unsafe class NonFiniteCounter
{
    /// <summary>Non-finite elements of <paramref name="tensor"/> (0 for non-float dtypes).</summary>
    public static long Count(Tensor tensor)
    {
        ArgumentNullException.ThrowIfNull(tensor);
        return tensor.DType switch
        {
            DType.F32 => Count<uint>(tensor, 0x7F80_0000u),
            DType.F16 => Count<ushort>(tensor, 0x7C00),
            DType.BF16 => Count<ushort>(tensor, 0x7F80),
            DType.F64 => Count<ulong>(tensor, 0x7FF0_0000_0000_0000ul),
            _ => 0,
        };
    }

    private static long Count<T>(Tensor tensor, T exponentMask) where T : unmanaged, IBinaryInteger<T>
    {
        long total = 0;
        long length = tensor.ElementCount;
        var mask = new Vector<T>(exponentMask);
        const int chunk = 1 << 24;
        for (long start = 0; start < length; start += chunk)
        {
            var span = new ReadOnlySpan<T>((T*)tensor.Pointer + start, (int)Math.Min(chunk, length - start));
            var vectors = MemoryMarshal.Cast<T, Vector<T>>(span);
            var hits = Vector<T>.Zero;
            int sinceFlush = 0;
            foreach (var v in vectors)
            {
                // an all-ones lane is -1 as a signed integer: subtracting it counts one
                hits -= Vector.Equals(v & mask, mask);
                if (++sinceFlush == 255) // lanes of 16 bits could overflow much later, but flush cheaply and often
                {
                    total += Sum(hits);
                    hits = Vector<T>.Zero;
                    sinceFlush = 0;
                }
            }
            total += Sum(hits);
            for (int i = vectors.Length * Vector<T>.Count; i < span.Length; i++)
            {
                if ((span[i] & exponentMask) == exponentMask)
                    total++;
            }
        }
        return total;
    }

    private static long Sum<T>(Vector<T> v) where T : unmanaged, IBinaryInteger<T>
    {
        long s = 0;
        for (int i = 0; i < Vector<T>.Count; i++)
            s += long.CreateTruncating(v[i]);
        return s;
    }
}
