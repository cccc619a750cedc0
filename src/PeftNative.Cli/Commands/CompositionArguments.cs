using System.CommandLine;
using System.Globalization;
using PeftNative.Composition;

namespace PeftNative.Cli.Commands;

/// <summary>
/// The composition options that <c>compose</c> and <c>merge EXPR</c> share (method and its
/// settings), their help text and their parsing into <see cref="CompositionOptions"/>, and the
/// expression check against the <c>--adapter NAME=DIR</c> values. Parsing reports usage errors
/// as one line, before any file is opened.
/// </summary>
internal sealed class CompositionArguments
{
    public Option<string?> Method { get; } = new("--method")
    {
        Description = "paper (default: the paper's parameter-space arithmetic), exact, svd, or a PEFT method: " +
            string.Join(", ", Enum.GetValues<CompositionMethod>().Skip(3).Select(m => m.Name())) + ".",
        HelpName = "M",
    };

    public Option<string?> Rank { get; } = new("--rank") { Description = "Target rank of the svd methods (default: the largest input rank).", HelpName = "R" };

    public Option<string?> Density { get; } = new("--density") { Description = "Fraction kept by ties, dare and magnitude_prune, 0 < D <= 1 (default 1).", HelpName = "D" };

    public Option<string?> MajoritySign { get; } = new("--majority-sign") { Description = "TIES sign election: total (default) or frequency.", HelpName = "total|frequency" };

    public Option<string?> SvdClamp { get; } = new("--svd-clamp") { Description = "Clamp the SVD factors to this quantile of their absolute values, 0 < Q <= 1 (PEFT's svd_clamp).", HelpName = "Q" };

    public Option<string?> Seed { get; } = new("--seed") { Description = "Seed of the DARE masks (default 0).", HelpName = "N" };

    public Option<bool> RawWeights { get; } = new("--raw-weights") { Description = "Paper method: keep positive coefficients as written (default: rescale them to sum to 1, as the paper averages)." };

    public Option<bool> UnionTargets { get; } = new("--union-targets") { Description = "Adapters with different target modules: compose the union (a missing module is a zero update) instead of refusing." };

    /// <summary>Every option, to add to a command.</summary>
    public IEnumerable<Option> All => [Method, Rank, Density, MajoritySign, SvdClamp, Seed, RawWeights, UnionTargets];

    /// <summary>True when the user gave any composition option (meaningless without an expression).</summary>
    public bool AnyGiven(ParseResult parse) => All.Any(o => parse.GetResult(o) is { Implicit: false });

    /// <summary>The options as given; on a bad value returns null and a one-line reason.</summary>
    public CompositionOptions? TryParse(ParseResult parse, out string? usage)
    {
        usage = null;
        var options = new CompositionOptions { RawWeights = parse.GetValue(RawWeights), UnionTargets = parse.GetValue(UnionTargets) };
        try
        {
            if (parse.GetValue(Method) is { } m)
                options = options with { Method = CompositionMethodNames.Parse(m) };
        }
        catch (ArgumentException e)
        {
            usage = "--method: " + AdapterArguments.OneLine(e.Message.Replace(" (Parameter 'name')", "", StringComparison.Ordinal));
            return null;
        }
        if (parse.GetValue(Rank) is { } rankText)
        {
            if (!int.TryParse(rankText, NumberStyles.None, CultureInfo.InvariantCulture, out int rank) || rank < 1)
            {
                usage = $"--rank needs a whole number >= 1, got '{rankText}'";
                return null;
            }
            options = options with { Rank = rank };
        }
        if (parse.GetValue(Density) is { } densityText)
        {
            if (!TryParseDouble(densityText, out double density) || !(density > 0 && density <= 1))
            {
                usage = $"--density needs a number in (0, 1], got '{densityText}'";
                return null;
            }
            options = options with { Density = density };
        }
        if (parse.GetValue(SvdClamp) is { } clampText)
        {
            if (!TryParseDouble(clampText, out double clamp) || !(clamp > 0 && clamp <= 1))
            {
                usage = $"--svd-clamp needs a quantile in (0, 1], got '{clampText}'";
                return null;
            }
            options = options with { SvdClamp = clamp };
        }
        if (parse.GetValue(Seed) is { } seedText)
        {
            if (!ulong.TryParse(seedText, NumberStyles.None, CultureInfo.InvariantCulture, out ulong seed))
            {
                usage = $"--seed needs a whole number from 0 to {ulong.MaxValue}, got '{seedText}'";
                return null;
            }
            options = options with { Seed = seed };
        }
        if (parse.GetValue(MajoritySign) is { } signText)
        {
            switch (signText.Trim().ToLowerInvariant())
            {
                case "total": options = options with { MajoritySign = MajoritySignMethod.Total }; break;
                case "frequency": options = options with { MajoritySign = MajoritySignMethod.Frequency }; break;
                default:
                    usage = $"--majority-sign needs total or frequency, got '{signText}'";
                    return null;
            }
        }
        return options;
    }

    /// <summary>
    /// System.CommandLine puts an unknown option where an EXPR argument may stand; this says so
    /// (one line, with the command's usage) instead of reporting it as a bad expression. Null when
    /// <paramref name="text"/> is not option-like.
    /// </summary>
    public static string? UnknownOptionAsExpression(string? text, string usage) =>
        text is not null && text.StartsWith("--", StringComparison.Ordinal) ? $"unknown option '{text}' ({usage})" : null;

    /// <summary>
    /// Parses <paramref name="text"/> and checks that every adapter it names is among
    /// <paramref name="adapters"/>; returns the expression, the adapters it uses and the names given
    /// but unused, or null and a one-line reason.
    /// </summary>
    public static (ModuleExpression Expression, List<(string Name, string Directory)> Used, List<string> Unused)? TryParseExpression(
        string text, List<(string Name, string Directory)> adapters, out string? usage)
    {
        usage = null;
        ModuleExpression expression;
        try
        {
            expression = ModuleExpression.Parse(text);
        }
        catch (ExpressionSyntaxException e)
        {
            // the message's later lines draw a caret under the expression; one line is the rule here
            usage = "bad expression: " + e.Message.Split('\n')[0];
            return null;
        }
        var used = expression.AdapterNames();
        var missing = used.Where(n => !adapters.Any(a => a.Name == n)).ToList();
        if (missing.Count > 0)
        {
            usage = $"the expression uses {string.Join(", ", missing.Select(n => $"'{n}'"))} but no --adapter {missing[0]}=DIR is given";
            return null;
        }
        return (expression, adapters.Where(a => used.Contains(a.Name)).ToList(), adapters.Where(a => !used.Contains(a.Name)).Select(a => a.Name).ToList());
    }

    private static bool TryParseDouble(string text, out double value) =>
        double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out value) && double.IsFinite(value);
}
