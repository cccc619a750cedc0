using System.Globalization;

namespace PeftNative.Cli.Commands;

/// <summary>
/// Sizes as users write them: a number with an optional unit, B, KB/MB/GB/TB (powers of 1000, as
/// Hugging Face's max_shard_size) or KiB/MiB/GiB/TiB (powers of 1024); case-insensitive.
/// </summary>
internal static class ByteSize
{
    private static readonly (string Unit, double Factor)[] Units =
    [
        ("kib", 1L << 10), ("mib", 1L << 20), ("gib", 1L << 30), ("tib", 1L << 40),
        ("kb", 1e3), ("mb", 1e6), ("gb", 1e9), ("tb", 1e12), ("b", 1),
    ];

    /// <summary>The size in bytes, or null when the text is not a positive size.</summary>
    public static long? TryParse(string text)
    {
        string t = text.Trim().ToLowerInvariant();
        double factor = 1;
        foreach (var (unit, f) in Units)
        {
            if (t.EndsWith(unit, StringComparison.Ordinal))
            {
                factor = f;
                t = t[..^unit.Length].TrimEnd();
                break;
            }
        }
        if (!double.TryParse(t, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out double value))
            return null;
        double bytes = Math.Floor(value * factor);
        return bytes >= 1 && bytes <= long.MaxValue / 2 ? (long)bytes : null;
    }
}
