using PeftNative.Adapters;

namespace PeftNative.Composition;

/// <summary>
/// Composes named adapters by an expression with one of the <see cref="CompositionMethod"/>s.
/// (Contract stub: implemented by the composer work.)
/// </summary>
public static class AdapterComposer
{
    /// <summary>
    /// Composes. Every adapter named in <paramref name="expression"/> must be in
    /// <paramref name="adapters"/>; all must share the PEFT type and base model.
    /// </summary>
    /// <exception cref="ArgumentException">Unknown names, mixed types or base models, target sets that differ without <see cref="CompositionOptions.UnionTargets"/>, ranks a method needs equal, bad options.</exception>
    /// <exception cref="InvalidDataException">Non-finite values in the result (unless allowed), naming the module.</exception>
    public static CompositionResult Compose(ModuleExpression expression, IReadOnlyDictionary<string, PeftAdapter> adapters,
        CompositionOptions? options = null, IProgress<double>? progress = null, CancellationToken cancellationToken = default) =>
        throw new NotImplementedException("contract stub");
}
