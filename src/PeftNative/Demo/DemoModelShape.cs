namespace PeftNative.Demo;

/// <summary>The shape of the demo's LLaMA-style model (small enough that the demo runs in seconds).</summary>
public sealed record DemoModelShape
{
    /// <summary>Vocabulary size.</summary>
    public int VocabSize { get; init; } = 512;

    /// <summary>Hidden size.</summary>
    public int HiddenSize { get; init; } = 256;

    /// <summary>Feed-forward size.</summary>
    public int IntermediateSize { get; init; } = 688;

    /// <summary>Decoder layers.</summary>
    public int Layers { get; init; } = 4;

    /// <summary>Query heads.</summary>
    public int Heads { get; init; } = 8;

    /// <summary>Key/value heads (grouped-query attention).</summary>
    public int KeyValueHeads { get; init; } = 4;

    /// <summary>Longest sequence.</summary>
    public int MaxPositions { get; init; } = 512;

    /// <summary>Size of one attention head.</summary>
    public int HeadDim => HiddenSize / Heads;

    /// <summary>Output features of k_proj and v_proj.</summary>
    public int KeyValueSize => KeyValueHeads * HeadDim;
}
