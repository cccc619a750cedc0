namespace PeftNative.Backends;

/// <summary>
/// One term of a low-rank merge: <c>Scale · B @ A</c> with B of shape (out, rank) and A of
/// shape (rank, in), both of one kernel dtype. For LoRA, Scale = lora_alpha / r (or
/// lora_alpha / √r with rsLoRA) times any composition weight.
/// </summary>
/// <param name="B">The up projection, (out_features, rank).</param>
/// <param name="A">The down projection, (rank, in_features).</param>
/// <param name="Scale">The factor s applied to B @ A.</param>
public readonly record struct LowRankUpdate(Tensor B, Tensor A, float Scale)
{
    /// <summary>The rank r (columns of B).</summary>
    public long Rank => B.Columns;
}
