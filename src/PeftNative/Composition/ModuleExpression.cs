using System.Globalization;

namespace PeftNative.Composition;

/// <summary>
/// A linear expression over named adapters: <c>0.5*a + 0.5*b</c>, <c>chat - 0.6*toxic</c>,
/// <c>0.7*c + 0.3*(x - y)</c>. Build one with <see cref="Adapter"/> and the operators, or parse
/// text with <see cref="Parse"/>; <see cref="Expand"/> distributes the coefficients into the list
/// of terms c_i * m_i that every composition method starts from (DESIGN.md section 1).
/// </summary>
public abstract class ModuleExpression
{
    private protected ModuleExpression() { }

    /// <summary>A reference to the adapter called <paramref name="name"/>.</summary>
    /// <exception cref="ArgumentException">Not a valid adapter name (letters, digits, '_', not starting with a digit).</exception>
    public static ModuleExpression Adapter(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        if (!ExpressionParser.IsAdapterName(name))
            throw new ArgumentException($"'{name}' is not a valid adapter name (letters, digits and '_', not starting with a digit)", nameof(name));
        return new AdapterReference(name);
    }

    /// <summary>Parses expression text.</summary>
    /// <exception cref="ExpressionSyntaxException">The text is not a linear expression over adapter names.</exception>
    public static ModuleExpression Parse(string text) => ExpressionParser.Parse(text);

    /// <summary>The sum of two expressions.</summary>
    public static ModuleExpression operator +(ModuleExpression left, ModuleExpression right) => new Sum(left, right, 1.0);

    /// <summary>The difference of two expressions.</summary>
    public static ModuleExpression operator -(ModuleExpression left, ModuleExpression right) => new Sum(left, right, -1.0);

    /// <summary>The negation (the paper's negation operator).</summary>
    public static ModuleExpression operator -(ModuleExpression operand) => new Scaled(-1.0, operand);

    /// <summary>A scaled expression.</summary>
    public static ModuleExpression operator *(double coefficient, ModuleExpression operand) => new Scaled(CheckFinite(coefficient), operand);

    /// <summary>A scaled expression.</summary>
    public static ModuleExpression operator *(ModuleExpression operand, double coefficient) => new Scaled(CheckFinite(coefficient), operand);

    /// <summary>An expression divided by a non-zero number.</summary>
    public static ModuleExpression operator /(ModuleExpression operand, double divisor)
    {
        if (divisor == 0 || !double.IsFinite(divisor))
            throw new ArgumentOutOfRangeException(nameof(divisor), divisor, "division needs a finite non-zero number");
        return new Scaled(1.0 / divisor, operand);
    }

    /// <summary>Named alternative to the + operator.</summary>
    public static ModuleExpression Add(ModuleExpression left, ModuleExpression right) => left + right;

    /// <summary>Named alternative to the binary - operator.</summary>
    public static ModuleExpression Subtract(ModuleExpression left, ModuleExpression right) => left - right;

    /// <summary>Named alternative to the unary - operator.</summary>
    public static ModuleExpression Negate(ModuleExpression operand) => -operand;

    /// <summary>Named alternative to the * operator.</summary>
    public static ModuleExpression Multiply(double coefficient, ModuleExpression operand) => coefficient * operand;

    /// <summary>Named alternative to the / operator.</summary>
    public static ModuleExpression Divide(ModuleExpression operand, double divisor) => operand / divisor;

    /// <summary>
    /// The expression as a list of terms c_i * m_i, coefficients distributed through parentheses, in
    /// the order the adapters appear. An adapter named twice gives two terms (the methods decide how
    /// terms combine; the paper's A = sum |c_i| A_i depends on it).
    /// </summary>
    public IReadOnlyList<CompositionTerm> Expand()
    {
        var terms = new List<CompositionTerm>();
        AppendTerms(1.0, terms);
        return terms;
    }

    /// <summary>The adapter names used, each once, in order of first appearance.</summary>
    public IReadOnlyList<string> AdapterNames() => Expand().Select(t => t.Adapter).Distinct(StringComparer.Ordinal).ToList();

    internal abstract void AppendTerms(double factor, List<CompositionTerm> terms);

    private static double CheckFinite(double coefficient) =>
        double.IsFinite(coefficient) ? coefficient : throw new ArgumentOutOfRangeException(nameof(coefficient), coefficient, "a coefficient must be finite");

    private static string Number(double value) => value.ToString("R", CultureInfo.InvariantCulture);

    private sealed class AdapterReference(string name) : ModuleExpression
    {
        internal override void AppendTerms(double factor, List<CompositionTerm> terms) => terms.Add(new CompositionTerm(factor, name));

        public override string ToString() => name;
    }

    private sealed class Scaled(double coefficient, ModuleExpression operand) : ModuleExpression
    {
        internal override void AppendTerms(double factor, List<CompositionTerm> terms) => operand.AppendTerms(factor * coefficient, terms);

        public override string ToString() => coefficient == -1.0
            ? $"-{Operand(operand)}"
            : $"{Number(coefficient)}*{Operand(operand)}";

        private static string Operand(ModuleExpression e) => e is AdapterReference ? e.ToString()! : $"({e})";
    }

    private sealed class Sum(ModuleExpression left, ModuleExpression right, double rightSign) : ModuleExpression
    {
        internal override void AppendTerms(double factor, List<CompositionTerm> terms)
        {
            left.AppendTerms(factor, terms);
            right.AppendTerms(factor * rightSign, terms);
        }

        public override string ToString() => rightSign > 0
            ? $"{left} + {right}"
            : $"{left} - {(right is Sum ? $"({right})" : right.ToString())}";
    }
}
