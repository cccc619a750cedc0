using PeftNative.Composition;

namespace PeftNative.Tests.Composition;

/// <summary>Parsing and expansion of composition expressions (DESIGN.md section 1).</summary>
public class ExpressionTests
{
    private static string Terms(string text) => string.Join(" ", ModuleExpression.Parse(text).Expand());

    [TestCase("a", "1*a")]
    [TestCase("0.5*a + 0.5*b", "0.5*a 0.5*b")]
    [TestCase("chat - 0.6*toxic", "1*chat -0.6*toxic")]
    [TestCase("0.7*c + 0.3*(x - y)", "0.7*c 0.3*x -0.3*y")]
    [TestCase("-m", "-1*m")]
    [TestCase("-0.6*m", "-0.6*m")]
    [TestCase("a*2", "2*a")]
    [TestCase("a/4", "0.25*a")]
    [TestCase("-(a - b)", "-1*a 1*b")]
    [TestCase("2*(0.5*(a - 3*b) - c)", "1*a -3*b -2*c")]
    [TestCase("  .5 * a +1e-1*b_2 ", "0.5*a 0.1*b_2")]
    [TestCase("(0.25 + 0.25)*a - -b", "0.5*a 1*b")]
    [TestCase("a + a", "1*a 1*a")]
    [TestCase("+a - +b", "1*a -1*b")]
    [TestCase("3*-a", "-3*a")]
    public void Expands_CoefficientsThroughParentheses(string text, string expected) =>
        Assert.That(Terms(text), Is.EqualTo(expected));

    [TestCase("", 0, "empty")]
    [TestCase("   ", 0, "empty")]
    [TestCase("0.5*", 4, "expression ended")]
    [TestCase("0.5*a +", 7, "expression ended")]
    [TestCase("a b", 2, "expected '+', '-', '*', '/' or the end but found 'b'")]
    [TestCase("0.5a", 3, "expected '*' between the number '0.5'")]
    [TestCase("(a + b", 6, "expected ')' to close the '(' at position 0")]
    [TestCase("(a + b]", 6, "found ']'")]
    [TestCase("a)", 1, "found ')'")]
    [TestCase("a*b", 1, "not linear")]
    [TestCase("2/a", 2, "'/' must be followed by a number")]
    [TestCase("a/0", 2, "division by zero")]
    [TestCase("0.5 + a", 4, "joins a number and an adapter")]
    [TestCase("0.5*2", 0, "names no adapter")]
    [TestCase("1e", 1, "digits after the exponent")]
    [TestCase("1e999*a", 0, "not a finite number")]
    [TestCase("a + $", 4, "found '$'")]
    [TestCase("a + é", 4, "found 'é'")]
    [TestCase("1e300*1e300*a", 0, "overflows")]
    [TestCase("..5*a", 0, "not a finite number")]
    public void BadExpressions_SayWhereAndWhat(string text, int position, string fragment)
    {
        var e = Assert.Throws<ExpressionSyntaxException>(() => ModuleExpression.Parse(text))!;
        using (Assert.EnterMultipleScope())
        {
            Assert.That(e.Position, Is.EqualTo(position), e.Message);
            Assert.That(e.Message, Does.Contain(fragment));
            Assert.That(e.Message, Does.Contain($"position {position}"));
        }
    }

    [Test]
    public void DeepNestingAndLongInput_AreRefusedWithoutStackOverflow()
    {
        string deep = new string('(', 3000) + "a" + new string(')', 3000);
        Assert.That(() => ModuleExpression.Parse(deep), Throws.TypeOf<ExpressionSyntaxException>().With.Message.Contains("nests deeper"));
        string signs = new string('-', 5000) + "a";
        Assert.That(() => ModuleExpression.Parse(signs), Throws.TypeOf<ExpressionSyntaxException>().With.Message.Contains("nests deeper"));
        string longText = string.Join(" + ", Enumerable.Repeat("a", 4000));
        Assert.That(() => ModuleExpression.Parse(longText), Throws.TypeOf<ExpressionSyntaxException>().With.Message.Contains("at most"));
        string ok = new string('(', 50) + "a" + new string(')', 50);
        Assert.That(Terms(ok), Is.EqualTo("1*a"));
    }

    [Test]
    public void BuilderApi_GivesTheSameTermsAsParsing()
    {
        var c = ModuleExpression.Adapter("c");
        var x = ModuleExpression.Adapter("x");
        var y = ModuleExpression.Adapter("y");
        var built = 0.7 * c + 0.3 * (x - y);
        var parsed = ModuleExpression.Parse("0.7*c + 0.3*(x - y)");
        Assert.That(built.Expand(), Is.EqualTo(parsed.Expand()));
        Assert.That(ModuleExpression.Negate(ModuleExpression.Subtract(x, ModuleExpression.Divide(y, 2))).Expand(),
            Is.EqualTo(new[] { new CompositionTerm(-1, "x"), new CompositionTerm(0.5, "y") }));
        Assert.That(() => ModuleExpression.Adapter("1a"), Throws.ArgumentException);
        Assert.That(() => x / 0, Throws.TypeOf<ArgumentOutOfRangeException>());
        Assert.That(() => double.NaN * x, Throws.TypeOf<ArgumentOutOfRangeException>());
    }

    [TestCase("0.7*c + 0.3*(x - y)")]
    [TestCase("-(a - 2*(b + c))")]
    [TestCase("a/3 - 0.1*b")]
    public void ToString_ParsesBackToTheSameTerms(string text)
    {
        var e = ModuleExpression.Parse(text);
        Assert.That(ModuleExpression.Parse(e.ToString()!).Expand(), Is.EqualTo(e.Expand()));
    }

    [Test]
    public void AdapterNames_AreDistinctInOrderOfAppearance() =>
        Assert.That(ModuleExpression.Parse("b + 0.5*(a - b) + c").AdapterNames(), Is.EqualTo(new[] { "b", "a", "c" }));

    [Test]
    public void Normalization_FollowsThePaperRule()
    {
        IReadOnlyList<CompositionTerm> Norm(string t, bool raw = false) => CoefficientNormalization.Apply(ModuleExpression.Parse(t).Expand(), raw);
        using (Assert.EnterMultipleScope())
        {
            // all positive, two or more terms: rescaled to sum 1
            Assert.That(Norm("2*a + 6*b").Select(t => t.Coefficient), Is.EqualTo(new[] { 0.25, 0.75 }));
            Assert.That(Norm("a + a").Select(t => t.Coefficient), Is.EqualTo(new[] { 0.5, 0.5 }));
            // raw weights, a single term, any negative or zero: as written
            Assert.That(Norm("2*a + 6*b", raw: true).Select(t => t.Coefficient), Is.EqualTo(new[] { 2.0, 6.0 }));
            Assert.That(Norm("3*a").Select(t => t.Coefficient), Is.EqualTo(new[] { 3.0 }));
            Assert.That(Norm("0.7*c + 0.3*(x - y)").Select(t => t.Coefficient), Is.EqualTo(new[] { 0.7, 0.3, -0.3 }));
            Assert.That(Norm("2*a + 0*b").Select(t => t.Coefficient), Is.EqualTo(new[] { 2.0, 0.0 }));
        }
    }
}
