using System.Text.RegularExpressions;

namespace PeftNative.Adapters;

/// <summary>
/// A PEFT module selector as adapter_config.json writes it (<c>target_modules</c>,
/// <c>exclude_modules</c>, <c>feedforward_modules</c>): either a list of names or one Python
/// regular expression. Matching follows PEFT (src/peft/tuners/tuners_utils.py
/// <c>check_target_module_exists</c>; src/peft/tuners/ia3/model.py
/// <c>_check_target_module_feedforward</c>): a regex must match the whole module path
/// (<c>re.fullmatch</c>); a list name matches a path equal to it or ending in <c>"." + name</c>
/// (<see cref="Matches"/>), or, for (IA)^3 feed-forward modules, any path ending in the name
/// (<see cref="MatchesSuffix"/>).
/// </summary>
public sealed class ModuleSelector : IEquatable<ModuleSelector>
{
    /// <summary>PEFT's shorthand for "every linear layer but the output head" (INCLUDE_LINEAR_LAYERS_SHORTHAND).</summary>
    public const string AllLinear = "all-linear";

    private readonly string[]? _names;
    private readonly Regex? _regex;

    private ModuleSelector(string[]? names, string? pattern, Regex? regex)
    {
        _names = names;
        Pattern = pattern;
        _regex = regex;
    }

    /// <summary>The names of a list selector (in the order written), or null for a regex.</summary>
    public IReadOnlyList<string>? Names => _names;

    /// <summary>The regular expression of a regex selector, or null for a list.</summary>
    public string? Pattern { get; }

    /// <summary>True for a regex selector.</summary>
    public bool IsRegex => Pattern is not null;

    /// <summary>
    /// True for PEFT's <c>"all-linear"</c> shorthand (case-insensitive). PEFT expands it against the
    /// model before saving, so saved adapters rarely carry it; without the model it matches every path.
    /// </summary>
    public bool IsAllLinear => Pattern is not null && string.Equals(Pattern, AllLinear, StringComparison.OrdinalIgnoreCase);

    /// <summary>A list selector. Names must be non-empty strings.</summary>
    /// <exception cref="ArgumentException">A name is null or empty.</exception>
    public static ModuleSelector FromNames(IEnumerable<string> names)
    {
        ArgumentNullException.ThrowIfNull(names);
        string[] copy = [.. names];
        foreach (string n in copy)
        {
            if (string.IsNullOrEmpty(n))
                throw new ArgumentException("module names must be non-empty strings", nameof(names));
        }
        return new ModuleSelector(copy, null, null);
    }

    /// <summary>A regex selector (a Python regular expression, matched against the whole module path).</summary>
    /// <exception cref="ArgumentException">The pattern is not a regular expression .NET can compile.</exception>
    public static ModuleSelector FromRegex(string pattern)
    {
        ArgumentNullException.ThrowIfNull(pattern);
        if (string.Equals(pattern, AllLinear, StringComparison.OrdinalIgnoreCase))
            return new ModuleSelector(null, pattern, null);
        return new ModuleSelector(null, pattern, PythonRegex.FullMatch(pattern));
    }

    /// <summary>
    /// PEFT's target rule: regex → full match; list → the path equals a name or ends with "." + name.
    /// <see cref="IsAllLinear"/> matches everything.
    /// </summary>
    /// <exception cref="RegexMatchTimeoutException">The regex ran past <see cref="PythonRegex.MatchTimeout"/>.</exception>
    public bool Matches(string modulePath)
    {
        ArgumentNullException.ThrowIfNull(modulePath);
        if (Pattern is not null)
            return _regex is null || _regex.IsMatch(modulePath);
        foreach (string name in _names!)
        {
            if (modulePath.Length == name.Length ? modulePath == name : EndsWithComponent(modulePath, name))
                return true;
        }
        return false;
    }

    /// <summary>
    /// PEFT's (IA)^3 feed-forward rule: regex → full match; list → the path ends with a name (no
    /// dot required, exactly as <c>key.endswith(target_key)</c>).
    /// </summary>
    /// <exception cref="RegexMatchTimeoutException">The regex ran past <see cref="PythonRegex.MatchTimeout"/>.</exception>
    public bool MatchesSuffix(string modulePath)
    {
        ArgumentNullException.ThrowIfNull(modulePath);
        if (Pattern is not null)
            return _regex is null || _regex.IsMatch(modulePath);
        foreach (string name in _names!)
        {
            if (modulePath.EndsWith(name, StringComparison.Ordinal))
                return true;
        }
        return false;
    }

    /// <summary>
    /// The selector that matches what either matches, as PEFT's add_weighted_adapter builds it:
    /// lists → union (first-seen order), regexes → <c>(a)|(b)</c>.
    /// </summary>
    /// <exception cref="ArgumentException">One is a list and the other a regex (PEFT refuses this mix too).</exception>
    public ModuleSelector Union(ModuleSelector other)
    {
        ArgumentNullException.ThrowIfNull(other);
        if (IsRegex != other.IsRegex)
            throw new ArgumentException("cannot combine a list of module names with a regular expression", nameof(other));
        if (IsRegex)
            return Pattern == other.Pattern ? this : FromRegex($"({Pattern})|({other.Pattern})");
        return FromNames(_names!.Concat(other._names!).Distinct(StringComparer.Ordinal));
    }

    /// <summary>True when both are regexes with the same text, or lists with the same set of names.</summary>
    public bool Equals(ModuleSelector? other) =>
        other is not null && (IsRegex
            ? other.IsRegex && Pattern == other.Pattern
            : !other.IsRegex && _names!.ToHashSet(StringComparer.Ordinal).SetEquals(other._names!));

    /// <inheritdoc />
    public override bool Equals(object? obj) => Equals(obj as ModuleSelector);

    /// <inheritdoc />
    public override int GetHashCode() => IsRegex
        ? StringComparer.Ordinal.GetHashCode(Pattern!)
        : _names!.Aggregate(0, (h, n) => h ^ StringComparer.Ordinal.GetHashCode(n));

    /// <summary>The regex text, or the names joined with ", ".</summary>
    public override string ToString() => Pattern ?? "[" + string.Join(", ", _names!) + "]";

    private static bool EndsWithComponent(string path, string name) =>
        path.Length > name.Length && path.EndsWith(name, StringComparison.Ordinal) && path[path.Length - name.Length - 1] == '.';
}
