namespace PeftNative;

/// <summary>
/// SplitMix64 (Steele, Lea, Flood 2014): the generator behind every reproducible random value
/// the library makes (DARE masks, the demo's weights), so one seed gives the same values on
/// every machine and runtime.
/// </summary>
internal static class SplitMix64
{
    /// <summary>The generator's increment, 2^64 / golden ratio.</summary>
    public const ulong Golden = 0x9E3779B97F4A7C15;

    /// <summary>The finalizer: a bijection of 64-bit words with full avalanche.</summary>
    public static ulong Mix(ulong z)
    {
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EB;
        return z ^ (z >> 31);
    }

    /// <summary>The next output of the sequence whose state is <paramref name="state"/> (advanced).</summary>
    public static ulong Next(ref ulong state) => Mix(state += Golden);
}
