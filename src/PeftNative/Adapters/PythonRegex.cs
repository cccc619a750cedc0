using System.Text;
using System.Text.RegularExpressions;

namespace PeftNative.Adapters;

/// <summary>
/// PEFT's config patterns are Python <c>re</c> expressions. This compiles them for .NET with the
/// anchoring PEFT uses (<c>re.fullmatch</c>, <c>re.match</c>) and translates the few spellings
/// that differ: <c>(?P&lt;name&gt;</c>, <c>(?P=name)</c> and <c>\Z</c>. Everything else in PEFT
/// configs (classes, alternation, quantifiers, look-arounds) reads the same in both engines.
/// </summary>
internal static class PythonRegex
{
    /// <summary>A match that runs longer than this is a hostile pattern, not a module name.</summary>
    public static readonly TimeSpan MatchTimeout = TimeSpan.FromSeconds(2);

    private const RegexOptions Options = RegexOptions.CultureInvariant;

    /// <summary><c>re.fullmatch(pattern, s)</c>.</summary>
    public static Regex FullMatch(string pattern) => Create($@"\A(?:{Translate(pattern)})\z");

    /// <summary><c>re.match(prefix + pattern + suffix, s)</c>: the pieces are joined as text, as PEFT's f-strings do.</summary>
    public static Regex MatchAtStart(string prefix, string pattern, string suffix) => Create($@"\A(?:{prefix}{Translate(pattern)}{suffix})");

    /// <summary>Compiles or throws <see cref="ArgumentException"/> with .NET's reason.</summary>
    private static Regex Create(string dotnetPattern) => new(dotnetPattern, Options, MatchTimeout);

    /// <summary>Rewrites the Python-only spellings; escapes and character classes pass through untouched.</summary>
    internal static string Translate(string pattern)
    {
        var sb = new StringBuilder(pattern.Length + 8);
        bool inClass = false;
        for (int i = 0; i < pattern.Length; i++)
        {
            char c = pattern[i];
            if (c == '\\' && i + 1 < pattern.Length)
            {
                char next = pattern[i + 1];
                // Python's \Z is "end of string only", which .NET spells \z (.NET's \Z also allows a final newline).
                sb.Append(!inClass && next == 'Z' ? @"\z" : pattern.AsSpan(i, 2));
                i++;
                continue;
            }
            if (inClass)
            {
                if (c == ']')
                    inClass = false;
                sb.Append(c);
                continue;
            }
            if (c == '[')
            {
                inClass = true;
                sb.Append(c);
                // A ']' right after '[' or '[^' is a literal in both engines.
                if (i + 1 < pattern.Length && pattern[i + 1] == '^')
                    sb.Append(pattern[++i]);
                if (i + 1 < pattern.Length && pattern[i + 1] == ']')
                    sb.Append(pattern[++i]);
                continue;
            }
            if (c == '(' && pattern.AsSpan(i).StartsWith("(?P<", StringComparison.Ordinal))
            {
                sb.Append("(?<");
                i += 3;
                continue;
            }
            if (c == '(' && pattern.AsSpan(i).StartsWith("(?P=", StringComparison.Ordinal))
            {
                int close = pattern.IndexOf(')', i);
                if (close > 0)
                {
                    sb.Append(@"\k<").Append(pattern.AsSpan(i + 4, close - i - 4)).Append('>');
                    i = close;
                    continue;
                }
            }
            sb.Append(c);
        }
        return sb.ToString();
    }
}
