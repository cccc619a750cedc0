namespace PeftNative.Composition.Operators;

/// <summary>
/// Which elements PEFT's magnitude pruning keeps: the k = floor(density * n) largest |T|. PEFT takes
/// torch.topk over the flattened tensor, whose choice among equal magnitudes is unspecified; here
/// equal magnitudes are kept lowest index first, so the result is deterministic. Magnitudes are
/// ordered as torch orders them: -0 equals +0, and NaN ranks above +Inf (all NaNs equal).
/// </summary>
/// <remarks>
/// The cut is a threshold key plus how many elements exactly at the threshold survive; <see cref="Keep"/>
/// must then see the elements in index order (it counts the threshold ties down as it goes).
/// </remarks>
internal struct MagnitudeCut
{
    private const ulong AbsMask = 0x7FFF_FFFF_FFFF_FFFF;
    private const ulong PositiveInfinityBits = 0x7FF0_0000_0000_0000;
    private const ulong CanonicalNaNBits = 0x7FF8_0000_0000_0000;

    private readonly ulong _threshold;
    private long _tiesLeft;

    private MagnitudeCut(ulong threshold, long tiesLeft)
    {
        _threshold = threshold;
        _tiesLeft = tiesLeft;
    }

    /// <summary>k = floor(density * n), computed in float64 as Python's int(density * numel) does; density must be in (0, 1).</summary>
    public static int KeepCount(double density, int length) => (int)(density * length);

    /// <summary>The cut keeping the <paramref name="keepCount"/> largest magnitudes of <paramref name="tensor"/>; <paramref name="scratch"/> holds at least tensor.Length keys.</summary>
    public static MagnitudeCut Compute(ReadOnlySpan<double> tensor, int keepCount, Span<ulong> scratch)
    {
        if (keepCount <= 0)
            return new MagnitudeCut(ulong.MaxValue, 0); // no key reaches it: nothing kept
        if (keepCount >= tensor.Length)
            return new MagnitudeCut(0, long.MaxValue);  // every key reaches it and ties never run out
        Span<ulong> keys = scratch[..tensor.Length];
        for (int j = 0; j < tensor.Length; j++)
            keys[j] = Key(tensor[j]);
        int position = tensor.Length - keepCount;
        ulong threshold = NthElement.Select(keys, position);
        // After selection, the keepCount - 1 keys above the position are >= threshold; those strictly
        // greater are kept outright, the rest of the quota goes to threshold ties in index order.
        long above = 0;
        foreach (ulong k in keys[(position + 1)..])
            if (k > threshold)
                above++;
        return new MagnitudeCut(threshold, keepCount - above);
    }

    /// <summary>Whether the next element (in index order) is kept.</summary>
    /// <remarks>Branch-free: whether an element passes the threshold is a coin flip the predictor cannot learn.</remarks>
    public bool Keep(double value)
    {
        ulong key = Key(value);
        bool tie = (key == _threshold) & (_tiesLeft > 0);
        _tiesLeft -= Indicator.Of(tie);
        return (key > _threshold) | tie;
    }

    /// <summary>An order-preserving integer key for |value|: the bits of a non-negative double sort as the number does.</summary>
    private static ulong Key(double value)
    {
        ulong bits = BitConverter.DoubleToUInt64Bits(value) & AbsMask;
        return bits > PositiveInfinityBits ? CanonicalNaNBits : bits;
    }
}
