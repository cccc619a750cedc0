namespace PeftNative.Composition;

/// <summary>
/// A composition expression that does not parse. The message shows the expression, the position
/// (0-based character index) and what was expected there.
/// </summary>
public sealed class ExpressionSyntaxException : FormatException
{
    /// <summary>Creates the exception.</summary>
    public ExpressionSyntaxException(string expression, int position, string problem)
        : base($"expression '{expression}', position {position}: {problem}\n  {expression}\n  {new string(' ', Math.Clamp(position, 0, expression.Length))}^")
    {
        Expression = expression;
        Position = position;
        Problem = problem;
    }

    /// <summary>The expression text.</summary>
    public string Expression { get; }

    /// <summary>0-based index of the character where parsing failed (the text length at the end).</summary>
    public int Position { get; }

    /// <summary>What is wrong there, e.g. "expected an adapter name, a number or '(' but found ')'".</summary>
    public string Problem { get; }
}
