using System.Globalization;

namespace PeftNative.Cli.Commands;

/// <summary>Token ids given on the command line or in a file: whole numbers separated by commas and/or white space.</summary>
internal static class TokenArguments
{
    /// <summary>Parses "1,2,3" (or "1 2 3"); on failure returns null and a one-line reason naming <paramref name="source"/>.</summary>
    public static int[]? TryParse(string text, string source, out string? error)
    {
        error = null;
        var parts = text.Split([',', ' ', '\t', '\r', '\n'], StringSplitOptions.RemoveEmptyEntries);
        var ids = new int[parts.Length];
        for (int i = 0; i < parts.Length; i++)
        {
            if (!int.TryParse(parts[i], NumberStyles.None, CultureInfo.InvariantCulture, out ids[i]))
            {
                error = $"{source}: '{(parts[i].Length > 20 ? parts[i][..20] + "..." : parts[i])}' (item {i + 1}) is not a token id (a whole number >= 0)";
                return null;
            }
        }
        if (ids.Length == 0)
            error = $"{source}: no token ids";
        return ids.Length == 0 ? null : ids;
    }

    /// <summary>Splits "x|y|z" into the choices, kept exactly as written (a leading space belongs to the choice).</summary>
    public static string[] SplitChoices(string text) => text.Split('|');
}
