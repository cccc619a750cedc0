namespace PeftNative.Models.Transformer;

/// <summary>
/// The token embedding (vocab × hidden), a zero-copy view of the checkpoint, with embedding LoRA
/// applied at run time as PEFT's lora.Embedding does: <c>row(t) += Σ w·s·B A[:, t]</c>
/// (A is r × vocab, B is hidden × r).
/// </summary>
internal sealed class TokenEmbedding(string tensorName, Tensor weight)
{
    private readonly List<(float[] A, float[] B, int Rank, float Scale)> _lora = [];

    public string TensorName { get; } = tensorName;

    public Tensor Weight { get; set; } = weight;

    public int VocabSize => (int)Weight.Shape[0];

    public int Hidden => (int)Weight.Shape[1];

    public void AddLora(Tensor a, Tensor b, float scale) =>
        _lora.Add((TensorRows.ToFloats(a), TensorRows.ToFloats(b), (int)a.Shape[0], scale));

    /// <summary>Writes the embedding of <paramref name="token"/> to <paramref name="row"/>.</summary>
    public void Lookup(int token, Span<float> row)
    {
        int d = Hidden;
        TensorRows.Widen(Weight, (long)token * d, row);
        foreach (var (a, b, rank, scale) in _lora)
        {
            for (int j = 0; j < rank; j++)
            {
                float coefficient = scale * a[(long)j * VocabSize + token];
                for (int i = 0; i < d; i++)
                    row[i] += coefficient * b[i * rank + j];
            }
        }
    }
}
