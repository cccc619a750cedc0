namespace PeftNative.Composition.Diagnostics;

/// <summary>
/// One module's share of a <see cref="SimilarityReport"/>. Lists are in the report's adapter order.
/// </summary>
public sealed record ModuleSimilarity
{
    /// <summary>Module path, e.g. <c>model.layers.0.self_attn.q_proj</c>.</summary>
    public required string Module { get; init; }

    /// <summary>Whether each adapter has the module (a missing module is a zero update).</summary>
    public required IReadOnlyList<bool> Present { get; init; }

    /// <summary>||dW||_F of each adapter's update here (LoRA: s B A; (IA)^3: l - 1); 0 where missing.</summary>
    public required IReadOnlyList<double> Norms { get; init; }

    /// <summary>Cosine similarity of each pair of updates, [i][j]; null where either update is zero.</summary>
    public required IReadOnlyList<IReadOnlyList<double?>> Cosines { get; init; }
}
