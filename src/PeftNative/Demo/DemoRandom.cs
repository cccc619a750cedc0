namespace PeftNative.Demo;

/// <summary>
/// Deterministic values for the demo's weights: SplitMix64, so the same seed gives the same
/// files on every machine and runtime (System.Random's sequence is not a documented contract).
/// </summary>
internal sealed class DemoRandom(ulong seed)
{
    private ulong _state = seed;

    /// <summary>The next value, uniform in [-1, 1).</summary>
    public float NextSigned()
    {
        ulong z = SplitMix64.Next(ref _state);
        return (float)((z >> 40) * (1.0 / (1UL << 23)) - 1.0);
    }

    /// <summary>An array of values uniform in [-scale, scale), plus <paramref name="offset"/>.</summary>
    public float[] Fill(int count, float scale, float offset = 0f)
    {
        var values = new float[count];
        for (int i = 0; i < count; i++)
            values[i] = offset + scale * NextSigned();
        return values;
    }
}
