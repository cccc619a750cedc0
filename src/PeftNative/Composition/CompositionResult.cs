using PeftNative.Adapters;

namespace PeftNative.Composition;

/// <summary>
/// A composed adapter with what produced it: the terms as applied, warnings for the user, and the
/// provenance saved in the weights' <c>__metadata__</c>. Owns the adapter's tensors.
/// </summary>
public sealed class CompositionResult : IDisposable
{
    /// <summary>Creates a result; takes ownership of <paramref name="adapter"/>.</summary>
    public CompositionResult(PeftAdapter adapter, IReadOnlyList<CompositionTerm> terms, IReadOnlyList<string> warnings, IReadOnlyDictionary<string, string> provenance)
    {
        Adapter = adapter;
        Terms = terms;
        Warnings = warnings;
        Provenance = provenance;
    }

    /// <summary>The composed adapter (owned tensors).</summary>
    public PeftAdapter Adapter { get; }

    /// <summary>The terms as applied (after the paper's normalisation where it applies).</summary>
    public IReadOnlyList<CompositionTerm> Terms { get; }

    /// <summary>Things the user should know (normalisation applied, modules missing from some inputs, ...).</summary>
    public IReadOnlyList<string> Warnings { get; }

    /// <summary>The <c>__metadata__</c> written with the adapter: expression, method, options, inputs' SHA-256.</summary>
    public IReadOnlyDictionary<string, string> Provenance { get; }

    /// <summary>
    /// Writes the adapter directory (PEFT loads it) with <see cref="Provenance"/> in the weights'
    /// metadata, atomically, through <see cref="PeftAdapter.Save(string, IReadOnlyDictionary{string, string}, bool, CancellationToken)"/>.
    /// </summary>
    /// <exception cref="IOException">The target exists and <paramref name="overwrite"/> is false, holds other files, or writing fails.</exception>
    /// <exception cref="ObjectDisposedException">The result was disposed.</exception>
    /// <exception cref="OperationCanceledException">Cancelled (nothing is left behind).</exception>
    public void Save(string directory, bool overwrite = false, CancellationToken cancellationToken = default) =>
        Adapter.Save(directory, Provenance, overwrite, cancellationToken);

    /// <summary>Frees the adapter's tensors.</summary>
    public void Dispose() => Adapter.Dispose();
}
