using PeftNative.Backends;

namespace PeftNative.Merging;

/// <summary>
/// Everything an adapter does to one model tensor, worked out and checked before any byte is
/// written: the LoRA terms (applied by one low-rank merge call, so W is read and written once for
/// all of them), an (IA)^3 scaling, bias additions (lora_B biases) or a whole replacement
/// (modules_to_save). Scales already carry the direction (negated for unmerge).
/// </summary>
internal sealed class TensorEdit(string tensorName)
{
    /// <summary>The model tensor changed.</summary>
    public string TensorName { get; } = tensorName;

    /// <summary>The adapter modules or tensors responsible, for messages and reports.</summary>
    public List<string> Sources { get; } = [];

    /// <summary>LoRA terms W += s·B@A (transposed when <see cref="FanInFanOut"/>).</summary>
    public List<LowRankUpdate> LowRank { get; } = [];

    /// <summary>W is stored [in, out] (Conv1D, embeddings): the LoRA update is transposed.</summary>
    public bool FanInFanOut { get; set; }

    /// <summary>(IA)^3 scaling, or null.</summary>
    public Ia3Scaling? Scaling { get; set; }

    /// <summary>Vectors added to a 1-D tensor (a bias): W += s·v.</summary>
    public List<(Tensor Vector, float Scale)> VectorAdds { get; } = [];

    /// <summary>The tensor whose values replace this one (converted to the output dtype), or null.</summary>
    public Tensor? Replacement { get; set; }

    /// <summary>True when something has to be computed (not only copied).</summary>
    public bool IsEmpty => LowRank.Count == 0 && Scaling is null && VectorAdds.Count == 0 && Replacement is null;
}

/// <summary>(IA)^3 scaling of a tensor by l along rows or columns (the inverse divides).</summary>
/// <param name="Vector">l, as many values as the scaled axis.</param>
/// <param name="Rows">Scale rows (W[i, j] *= l[i]); otherwise columns (W[i, j] *= l[j]). A 1-D bias scales its only row's columns.</param>
/// <param name="Inverse">Divide instead of multiply (unmerge).</param>
internal sealed record Ia3Scaling(Tensor Vector, bool Rows, bool Inverse);
