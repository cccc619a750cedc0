using System.Text;
using PeftNative.Composition;

namespace PeftNative.Fuzz;

/// <summary>
/// The input is a composition expression, decoded as UTF-8. <see cref="ModuleExpression.Parse"/> may
/// reject it only with <see cref="ExpressionSyntaxException"/>. An accepted expression must expand to
/// finite coefficients over valid adapter names, and its text form must parse back to the same terms
/// (bit-exact coefficients), unless that text runs past the parser's length or depth limits.
/// </summary>
internal static class ComposeExpressionTarget
{
    public static void Run(ReadOnlySpan<byte> input)
    {
        string text = Encoding.UTF8.GetString(input);
        ModuleExpression expression;
        try
        {
            expression = ModuleExpression.Parse(text);
        }
        catch (ExpressionSyntaxException)
        {
            return;
        }
        var terms = expression.Expand();
        if (terms.Count == 0)
            throw new FuzzInvariantException("compose-expression: an accepted expression has no terms");
        foreach (var t in terms)
        {
            if (!double.IsFinite(t.Coefficient))
                throw new FuzzInvariantException($"compose-expression: coefficient {t.Coefficient} of {t.Adapter} is not finite");
            _ = ModuleExpression.Adapter(t.Adapter); // throws on a name the parser should not have accepted
        }
        _ = CoefficientNormalization.Apply(terms, rawWeights: false);

        string again = expression.ToString()!;
        IReadOnlyList<CompositionTerm> reparsed;
        try
        {
            reparsed = ModuleExpression.Parse(again).Expand();
        }
        catch (ExpressionSyntaxException e) when (e.Problem.Contains("at most", StringComparison.Ordinal) || e.Problem.Contains("nests deeper", StringComparison.Ordinal))
        {
            return; // the canonical text may be longer or deeper than the input; that is not a bug
        }
        if (!reparsed.SequenceEqual(terms))
            throw new FuzzInvariantException($"compose-expression: '{text}' printed as '{again}' parses to other terms");
    }
}
