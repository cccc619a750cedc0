using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace PeftNative;

/// <summary>
/// Finds NaN and ±Inf in a float tensor from the bit patterns (all exponent bits set), with
/// vectors, at about the cost of one read:
/// <list type="bullet">
/// <item><see cref="IndexOf"/>, the first one (composition's refusal): a running vector maximum of the
/// magnitude bits, an and and a max per vector and one comparison per block; the index is looked
/// for only in a block that holds one;</item>
/// <item><see cref="Count"/>, how many (the merge's safe-merge check over every touched tensor).</item>
/// </list>
/// </summary>
internal static class NonFiniteScan
{
    /// <summary>Elements per block between comparisons (a multiple of every vector width).</summary>
    private const int Block = 1024;

    /// <summary>Index of the first NaN or ±Inf element, or -1.</summary>
    public static long IndexOf(Tensor tensor) => tensor.DType switch
    {
        DType.F32 => IndexOf(tensor.AsSpan<uint>(), 0x7FFF_FFFFu, 0x7F80_0000u),
        DType.F16 => IndexOf(tensor.AsSpan<ushort>(), (ushort)0x7FFF, (ushort)0x7C00),
        DType.BF16 => IndexOf(tensor.AsSpan<ushort>(), (ushort)0x7FFF, (ushort)0x7F80),
        _ => throw new ArgumentException($"tensor dtype {tensor.DType} is not F32, F16 or BF16", nameof(tensor)),
    };

    // Optimised at first call: compositions run this loop over every output, and tiered
    // compilation would start it unoptimised.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static long IndexOf<T>(ReadOnlySpan<T> bits, T magnitudeMask, T infinity) where T : unmanaged, IBinaryInteger<T>
    {
        int start = 0;
        if (Vector.IsHardwareAccelerated)
        {
            var mask = new Vector<T>(magnitudeMask);
            var inf = new Vector<T>(infinity);
            for (; start + Block <= bits.Length; start += Block)
            {
                var lanes = MemoryMarshal.Cast<T, Vector<T>>(bits.Slice(start, Block));
                Vector<T> m0 = Vector<T>.Zero, m1 = Vector<T>.Zero;
                for (int v = 0; v < lanes.Length; v += 2)
                {
                    m0 = Vector.Max(m0, lanes[v] & mask);
                    m1 = Vector.Max(m1, lanes[v + 1] & mask);
                }
                if (Vector.GreaterThanOrEqualAny(Vector.Max(m0, m1), inf))
                    return Scalar(bits, magnitudeMask, infinity, start);
            }
        }
        return Scalar(bits, magnitudeMask, infinity, start);
    }

    private static long Scalar<T>(ReadOnlySpan<T> bits, T magnitudeMask, T infinity, int start) where T : unmanaged, IBinaryInteger<T>
    {
        for (int i = start; i < bits.Length; i++)
        {
            if ((bits[i] & magnitudeMask) >= infinity)
                return i;
        }
        return -1;
    }

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

    private static unsafe long Count<T>(Tensor tensor, T exponentMask) where T : unmanaged, IBinaryInteger<T>
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
