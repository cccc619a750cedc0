namespace PeftNative.Models.Transformer;

/// <summary>One transformer layer: updates the residual stream in place and appends to its layer of the cache.</summary>
internal interface IDecoderBlock
{
    /// <summary>The block's projections (adapters attach to them by checkpoint tensor name).</summary>
    IEnumerable<LinearProjection> Projections { get; }

    /// <summary>Runs rows <paramref name="start"/> .. start + m − 1 of the sequence through the block.</summary>
    void Forward(ForwardContext context, float[] hidden, int m, int start, TransformerKeyValueCache cache, int layer);
}
