using System.Numerics;
using System.Runtime.InteropServices;

namespace PeftNative.Composition;

/// <summary>
/// Finds NaN or ±Inf in a composed tensor from the bit patterns: with the sign cleared, a value is
/// non-finite exactly when its bits are at least those of +Inf. It runs over every output of the
/// fast paper path right after the kernel wrote it (the data is still in cache), so it keeps a
/// running vector maximum — an and and a max per vector, one comparison per block — and only looks
/// for the index when a block holds a non-finite value.
/// </summary>
internal static class NonFiniteCheck
{
    /// <summary>Elements per block between comparisons (a multiple of every vector width).</summary>
    private const int Block = 1024;

    /// <summary>Index of the first NaN or ±Inf element, or -1.</summary>
    public static long IndexOfNonFinite(Tensor tensor) => tensor.DType switch
    {
        DType.F32 => IndexOf(tensor.AsSpan<uint>(), 0x7FFF_FFFFu, 0x7F80_0000u),
        DType.F16 => IndexOf(tensor.AsSpan<ushort>(), (ushort)0x7FFF, (ushort)0x7C00),
        DType.BF16 => IndexOf(tensor.AsSpan<ushort>(), (ushort)0x7FFF, (ushort)0x7F80),
        _ => throw new ArgumentException($"tensor dtype {tensor.DType} is not F32, F16 or BF16", nameof(tensor)),
    };

    /// <summary>Throws unless every element is finite (or non-finite values are allowed).</summary>
    /// <exception cref="InvalidDataException">A NaN or ±Inf, naming the module, tensor and index.</exception>
    public static void Require(Tensor tensor, string modulePath, string tensorName, bool allowNonFinite)
    {
        if (allowNonFinite)
            return;
        long index = IndexOfNonFinite(tensor);
        if (index >= 0)
            throw new InvalidDataException(
                $"module {modulePath}: the composed {tensorName} has a non-finite value at element {index} (an input holds NaN/Inf, or the sum overflowed {tensor.DType}); " +
                "set AllowNonFinite to keep it");
    }

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
