namespace PeftNative.Composition;

/// <summary>One term c * m of an expanded composition: a coefficient and the adapter it applies to.</summary>
public readonly record struct CompositionTerm(double Coefficient, string Adapter)
{
    /// <inheritdoc />
    public override string ToString() =>
        string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{Coefficient:R}*{Adapter}");
}
