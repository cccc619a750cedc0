using System.Globalization;
using System.Text;

namespace PeftNative.Composition.Operators;

/// <summary>
/// DARE keep-masks from a counter-based generator: element j of stream s under seed k is kept when
/// a hash of (k, s, j) mapped to [0, 1) is below the density. No state, so any backend, thread
/// split or order gives the same mask.
/// </summary>
/// <remarks>
/// The exact formula, in unsigned 64-bit arithmetic (wrapping multiplication and addition), so that a
/// CUDA/ILGPU kernel reproduces it bit for bit:
/// <code>
/// mix(z)  = z ^= z &gt;&gt; 30; z *= 0xBF58476D1CE4E5B9; z ^= z &gt;&gt; 27; z *= 0x94D049BB133111EB; z ^ (z &gt;&gt; 31)   // SplitMix64 finalizer
/// G       = 0x9E3779B97F4A7C15
/// key     = mix(k ^ mix(s + G))
/// hash64(k, s, j) = mix(key + (j + 1) * G)          // the j-th output (0-based) of SplitMix64 seeded with key
/// u       = (double)(hash64(k, s, j) &gt;&gt; 11) * 2^-53   // exact: a 53-bit integer times a power of two, in [0, 1)
/// keep    = u &lt; density                              // compared in float64
/// </code>
/// Stream ids: <see cref="Stream"/> = mix(FNV-1a-64(UTF-8 bytes of "modulePath\0factor\0inputIndex")), with
/// FNV offset basis 0xCBF29CE484222325, prime 0x100000001B3 and the index written in invariant decimal.
/// </remarks>
public static class DareMask
{
    private const ulong Golden = SplitMix64.Golden;
    private const ulong FnvOffset = 0xCBF29CE484222325;
    private const ulong FnvPrime = 0x100000001B3;
    private const double TwoToMinus53 = 1.0 / (1UL << 53);

    /// <summary>A stream id for one tensor of one input: a stable hash of the module path, the factor name ("lora_A", "lora_B", "delta") and the input index.</summary>
    /// <remarks>mix(FNV-1a-64(UTF-8("modulePath\0factor\0inputIndex"))); stable across processes and machines (never string.GetHashCode).</remarks>
    /// <exception cref="ArgumentNullException"><paramref name="modulePath"/> or <paramref name="factor"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="inputIndex"/> is negative.</exception>
    public static ulong Stream(string modulePath, string factor, int inputIndex)
    {
        ArgumentNullException.ThrowIfNull(modulePath);
        ArgumentNullException.ThrowIfNull(factor);
        ArgumentOutOfRangeException.ThrowIfNegative(inputIndex);
        byte[] bytes = Encoding.UTF8.GetBytes(string.Concat(modulePath, "\0", factor, "\0", inputIndex.ToString(CultureInfo.InvariantCulture)));
        ulong h = FnvOffset;
        foreach (byte b in bytes)
        {
            h ^= b;
            h *= FnvPrime;
        }
        return SplitMix64.Mix(h);
    }

    /// <summary>hash64(seed, stream, index) of the class formula: the raw 64-bit draw for one element.</summary>
    public static ulong Hash(ulong seed, ulong stream, ulong index) => SplitMix64.Mix(StreamKey(seed, stream) + (index + 1) * Golden);

    /// <summary>The uniform draw u = (hash64 &gt;&gt; 11) * 2^-53 in [0, 1) for one element; it is kept when u &lt; density.</summary>
    public static double Uniform(ulong seed, ulong stream, ulong index) => ToUnit(Hash(seed, stream, index));

    /// <summary>Fills <paramref name="keep"/> for elements [offset, offset + keep.Length) of the stream.</summary>
    /// <remarks>keep[i] = Uniform(seed, stream, offset + i) &lt; density, so density 0 keeps nothing and density &gt;= 1 keeps everything.</remarks>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="density"/> is NaN or negative, <paramref name="offset"/> is negative.</exception>
    public static void Fill(ulong seed, ulong stream, double density, Span<bool> keep, long offset = 0)
    {
        if (double.IsNaN(density) || density < 0)
            throw new ArgumentOutOfRangeException(nameof(density), density, "density must be a number >= 0");
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        ulong key = StreamKey(seed, stream);
        // The Weyl state for element offset + i is key + (offset + i + 1) * G; step it by G per element.
        ulong state = key + ((ulong)offset + 1) * Golden;
        for (int i = 0; i < keep.Length; i++, state += Golden)
            keep[i] = ToUnit(SplitMix64.Mix(state)) < density;
    }

    private static ulong StreamKey(ulong seed, ulong stream) => SplitMix64.Mix(seed ^ SplitMix64.Mix(stream + Golden));

    private static double ToUnit(ulong h) => (h >> 11) * TwoToMinus53;

}
