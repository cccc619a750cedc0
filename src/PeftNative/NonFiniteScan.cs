using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace PeftNative;

/// <summary>
/// Finds NaN or ±Inf in a tensor from the bit patterns: with the sign cleared, a value is
/// non-finite exactly when its bits are at least those of +Inf. It keeps a running vector maximum
/// (an and and a max per vector, one comparison per block) and only looks for the index when a
/// block holds a non-finite value.
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
}
