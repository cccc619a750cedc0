namespace PeftNative.Composition.Operators;

/// <summary>
/// DARE keep-masks from a counter-based generator: element j of stream s under seed k is kept when
/// a hash of (k, s, j) mapped to [0, 1) is below the density. No state, so any backend, thread
/// split or order gives the same mask. (Contract stub: implemented by the operators work.)
/// </summary>
public static class DareMask
{
    /// <summary>A stream id for one tensor of one input: a stable hash of the module path, the factor name ("lora_A", "lora_B", "delta") and the input index.</summary>
    public static ulong Stream(string modulePath, string factor, int inputIndex) => throw new NotImplementedException("contract stub");

    /// <summary>Fills <paramref name="keep"/> for elements [offset, offset + keep.Length) of the stream.</summary>
    public static void Fill(ulong seed, ulong stream, double density, Span<bool> keep, long offset = 0) =>
        throw new NotImplementedException("contract stub");
}
