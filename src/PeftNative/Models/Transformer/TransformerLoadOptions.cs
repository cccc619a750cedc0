using PeftNative.Backends;

namespace PeftNative.Models.Transformer;

/// <summary>How <see cref="TransformerModel.Load"/> builds a model.</summary>
public sealed record TransformerLoadOptions
{
    /// <summary>Adapters merged into W once at load time (W' = W + Σ w·s·B A, (IA)^3 scaling).</summary>
    public IReadOnlyList<WeightedAdapter> MergedAdapters { get; init; } = [];

    /// <summary>Adapters applied at run time: <c>y = W x + Σ w·s·B (A x)</c>, (IA)^3 scaling of
    /// keys, values and feed-forward input; stacked in order, as a serving stack does.</summary>
    public IReadOnlyList<WeightedAdapter> RuntimeAdapters { get; init; } = [];

    /// <summary>The matrix product ("auto", "native-cpu", "managed"); null: environment, else auto.</summary>
    public string? MatMul { get; init; }

    /// <summary>Worker threads (&lt;= 0: all logical CPUs).</summary>
    public int Threads { get; init; }

    /// <summary>Receives one-line notices (backend fallback); default standard error.</summary>
    public Action<string>? Diagnostics { get; init; }
}
