using System.Numerics;

namespace PeftNative.Composition.Operators;

/// <summary>
/// Introselect on 64-bit keys: the value that would sit at a given position after an ascending sort.
/// Quickselect with a median-of-three pivot and Hoare partitioning (equal keys split evenly, so runs
/// of duplicates such as zeros stay linear); after 2 log2(n) rounds without converging it sorts the
/// remaining range, bounding the worst case by O(n log n).
/// </summary>
internal static class NthElement
{
    private const int SortBelow = 24;

    /// <summary>Reorders <paramref name="keys"/> partially and returns the <paramref name="n"/>-th smallest (0-based).</summary>
    public static ulong Select(Span<ulong> keys, int n)
    {
        if ((uint)n >= (uint)keys.Length)
            throw new ArgumentOutOfRangeException(nameof(n), n, $"position must be in [0, {keys.Length})");
        int lo = 0, hi = keys.Length - 1;
        int budget = 2 * BitOperations.Log2((uint)keys.Length) + 4;
        while (hi > lo)
        {
            if (hi - lo < SortBelow || budget-- == 0)
            {
                keys[lo..(hi + 1)].Sort();
                return keys[n];
            }
            ulong pivot = MedianOfThree(keys[lo], keys[lo + ((hi - lo) >> 1)], keys[hi]);
            int i = lo, j = hi;
            while (i <= j)
            {
                while (keys[i] < pivot)
                    i++;
                while (keys[j] > pivot)
                    j--;
                if (i <= j)
                {
                    (keys[i], keys[j]) = (keys[j], keys[i]);
                    i++;
                    j--;
                }
            }
            // Now [lo, j] <= pivot, [i, hi] >= pivot and everything strictly between equals the pivot.
            if (n <= j)
                hi = j;
            else if (n >= i)
                lo = i;
            else
                return keys[n];
        }
        return keys[n];
    }

    private static ulong MedianOfThree(ulong a, ulong b, ulong c) =>
        a < b ? (b < c ? b : Math.Max(a, c)) : (a < c ? a : Math.Max(b, c));
}
