using System.Globalization;

namespace PeftNative.Composition;

/// <summary>
/// Recursive-descent parser for composition expressions:
/// <code>
/// expr    := term (('+' | '-') term)*
/// term    := unary (('*' | '/') unary)*      a product has at most one adapter side; '/' only by a number
/// unary   := ('+' | '-') unary | primary
/// primary := number | name | '(' expr ')'
/// </code>
/// Numbers are invariant-culture decimals with an optional exponent (0.5, .5, 1e-3); names are
/// letters, digits and '_' not starting with a digit. Length and nesting are bounded so that no
/// input can exhaust the stack; every failure is an <see cref="ExpressionSyntaxException"/>.
/// </summary>
internal sealed class ExpressionParser
{
    /// <summary>Longest expression accepted, in characters.</summary>
    public const int MaxLength = 10_000;

    /// <summary>Deepest nesting of parentheses and unary signs accepted.</summary>
    public const int MaxDepth = 100;

    private readonly string _text;
    private int _pos;
    private int _depth;

    private ExpressionParser(string text) => _text = text;

    /// <summary>A value during parsing: a plain number or an expression over adapters.</summary>
    private readonly record struct Value(double Number, ModuleExpression? Expression)
    {
        public bool IsNumber => Expression is null;
    }

    public static ModuleExpression Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (text.Length > MaxLength)
            throw new ExpressionSyntaxException(text[..40] + "...", 0, $"the expression is {text.Length} characters long; at most {MaxLength} are accepted");
        var parser = new ExpressionParser(text);
        parser.SkipSpace();
        if (parser._pos == text.Length)
            throw new ExpressionSyntaxException(text, 0, "the expression is empty; expected e.g. '0.5*a + 0.5*b'");
        Value v = parser.ParseSum();
        parser.SkipSpace();
        if (parser._pos < text.Length)
            throw parser.Error($"expected '+', '-', '*', '/' or the end but found {parser.Describe()}");
        if (v.IsNumber)
            throw new ExpressionSyntaxException(text, 0, "the expression names no adapter; expected e.g. '0.5*a + 0.5*b'");
        return v.Expression!;
    }

    public static bool IsAdapterName(string name)
    {
        if (name.Length == 0 || !IsNameStart(name[0]))
            return false;
        foreach (char c in name)
            if (!IsNamePart(c))
                return false;
        return true;
    }

    private Value ParseSum()
    {
        int start = _pos;
        Value left = ParseProduct();
        while (true)
        {
            SkipSpace();
            if (_pos >= _text.Length || (_text[_pos] != '+' && _text[_pos] != '-'))
                return left;
            char op = _text[_pos];
            int opPos = _pos++;
            Value right = ParseProduct();
            if (left.IsNumber != right.IsNumber)
                throw new ExpressionSyntaxException(_text, opPos,
                    $"'{op}' joins a number and an adapter expression; every term needs an adapter (e.g. '0.5*a {op} 0.5*b')");
            if (left.IsNumber)
                left = new Value(op == '+' ? left.Number + right.Number : left.Number - right.Number, null);
            else
                left = new Value(0, op == '+' ? left.Expression! + right.Expression! : left.Expression! - right.Expression!);
            CheckFinite(left, start);
        }
    }

    private Value ParseProduct()
    {
        int start = _pos;
        Value left = ParseUnary();
        while (true)
        {
            SkipSpace();
            if (_pos >= _text.Length || (_text[_pos] != '*' && _text[_pos] != '/'))
                return left;
            char op = _text[_pos];
            int opPos = _pos++;
            int rightPos = SkipSpaceAndMark();
            Value right = ParseUnary();
            if (op == '*')
            {
                if (!left.IsNumber && !right.IsNumber)
                    throw new ExpressionSyntaxException(_text, opPos, "'*' between two adapter expressions is not linear; one side must be a number");
                left = left.IsNumber && right.IsNumber
                    ? new Value(left.Number * right.Number, null)
                    : left.IsNumber ? new Value(0, left.Number * right.Expression!) : new Value(0, left.Expression! * right.Number);
            }
            else
            {
                if (!right.IsNumber)
                    throw new ExpressionSyntaxException(_text, rightPos, "'/' must be followed by a number (division by an adapter is not linear)");
                if (right.Number == 0)
                    throw new ExpressionSyntaxException(_text, rightPos, "division by zero");
                left = left.IsNumber ? new Value(left.Number / right.Number, null) : new Value(0, left.Expression! / right.Number);
            }
            CheckFinite(left, start);
        }
    }

    private Value ParseUnary()
    {
        SkipSpace();
        if (_pos < _text.Length && (_text[_pos] == '+' || _text[_pos] == '-'))
        {
            char sign = _text[_pos++];
            Enter();
            Value operand = ParseUnary();
            _depth--;
            if (sign == '+')
                return operand;
            return operand.IsNumber ? new Value(-operand.Number, null) : new Value(0, -operand.Expression!);
        }
        return ParsePrimary();
    }

    private Value ParsePrimary()
    {
        SkipSpace();
        if (_pos >= _text.Length)
            throw Error("expected an adapter name, a number or '(' but the expression ended");
        char c = _text[_pos];
        if (c == '(')
        {
            int open = _pos++;
            Enter();
            Value inner = ParseSum();
            _depth--;
            SkipSpace();
            if (_pos >= _text.Length)
                throw new ExpressionSyntaxException(_text, _pos, $"expected ')' to close the '(' at position {open} but the expression ended");
            if (_text[_pos] != ')')
                throw Error($"expected ')' to close the '(' at position {open} but found {Describe()}");
            _pos++;
            return inner;
        }
        if (char.IsAsciiDigit(c) || c == '.')
            return new Value(ParseNumber(), null);
        if (IsNameStart(c))
        {
            int start = _pos;
            while (_pos < _text.Length && IsNamePart(_text[_pos]))
                _pos++;
            return new Value(0, ModuleExpression.Adapter(_text[start.._pos]));
        }
        throw Error($"expected an adapter name, a number or '(' but found {Describe()}");
    }

    private double ParseNumber()
    {
        int start = _pos;
        while (_pos < _text.Length && char.IsAsciiDigit(_text[_pos]))
            _pos++;
        if (_pos < _text.Length && _text[_pos] == '.')
        {
            _pos++;
            while (_pos < _text.Length && char.IsAsciiDigit(_text[_pos]))
                _pos++;
        }
        if (_pos < _text.Length && (_text[_pos] == 'e' || _text[_pos] == 'E'))
        {
            int exponent = _pos++;
            if (_pos < _text.Length && (_text[_pos] == '+' || _text[_pos] == '-'))
                _pos++;
            if (_pos >= _text.Length || !char.IsAsciiDigit(_text[_pos]))
                throw new ExpressionSyntaxException(_text, exponent, "expected digits after the exponent 'e'");
            while (_pos < _text.Length && char.IsAsciiDigit(_text[_pos]))
                _pos++;
        }
        string token = _text[start.._pos];
        if (!double.TryParse(token, NumberStyles.AllowDecimalPoint | NumberStyles.AllowExponent, CultureInfo.InvariantCulture, out double value)
            || !double.IsFinite(value))
            throw new ExpressionSyntaxException(_text, start, $"'{token}' is not a finite number");
        if (_pos < _text.Length && IsNameStart(_text[_pos]))
            throw Error($"expected '*' between the number '{token}' and the name that follows");
        return value;
    }

    private void CheckFinite(Value v, int start)
    {
        if (v.IsNumber ? !double.IsFinite(v.Number) : v.Expression!.Expand().Any(t => !double.IsFinite(t.Coefficient)))
            throw new ExpressionSyntaxException(_text, start, "a coefficient overflows to infinity");
    }

    private void Enter()
    {
        if (++_depth > MaxDepth)
            throw Error($"the expression nests deeper than {MaxDepth} levels");
    }

    private int SkipSpaceAndMark()
    {
        SkipSpace();
        return _pos;
    }

    private void SkipSpace()
    {
        while (_pos < _text.Length && char.IsWhiteSpace(_text[_pos]))
            _pos++;
    }

    private string Describe() => _pos >= _text.Length ? "the end" : $"'{_text[_pos]}'";

    private ExpressionSyntaxException Error(string problem) => new(_text, _pos, problem);

    private static bool IsNameStart(char c) => char.IsAsciiLetter(c) || c == '_';

    private static bool IsNamePart(char c) => char.IsAsciiLetterOrDigit(c) || c == '_';
}
