namespace PeftNative.Models.Transformer;

/// <summary>
/// A GPT-2 block (transformers' GPT2Block): x += c_proj(attn(split(c_attn(ln_1(x))))),
/// x += mlp.c_proj(gelu_tanh(mlp.c_fc(ln_2(x)))). Every projection is a Conv1D stored in × out.
/// </summary>
internal sealed class Gpt2Block : IDecoderBlock
{
    private readonly int _hidden;
    private readonly LayerNorm _ln1;
    private readonly LayerNorm _ln2;
    private readonly LinearProjection _attention;
    private readonly LinearProjection _attentionOutput;
    private readonly LinearProjection _up;
    private readonly LinearProjection _down;
    private readonly CausalSelfAttention _attend;

    private Gpt2Block(ArchitectureSpec spec, int layer, CheckpointWeights w)
    {
        string p = $"transformer.h.{layer}";
        int d = spec.HiddenSize, inner = spec.IntermediateSize;
        _hidden = d;
        _ln1 = new LayerNorm(w.Vector($"{p}.ln_1", "weight", d), w.Vector($"{p}.ln_1", "bias", d), spec.NormEpsilon);
        _ln2 = new LayerNorm(w.Vector($"{p}.ln_2", "weight", d), w.Vector($"{p}.ln_2", "bias", d), spec.NormEpsilon);
        _attention = Conv1D(w, $"{p}.attn.c_attn", d, 3 * d);
        _attentionOutput = Conv1D(w, $"{p}.attn.c_proj", d, d);
        _up = Conv1D(w, $"{p}.mlp.c_fc", d, inner);
        _down = Conv1D(w, $"{p}.mlp.c_proj", inner, d);
        float scale = spec.ScaleAttentionWeights ? 1f / MathF.Sqrt(spec.HeadDim) : 1f;
        if (spec.ScaleByInverseLayerIndex)
            scale /= layer + 1;
        _attend = new CausalSelfAttention(spec.Heads, spec.Heads, spec.HeadDim, scale, rotary: null, slidingWindow: 0);
    }

    public static Gpt2Block Load(ArchitectureSpec spec, int layer, CheckpointWeights weights) => new(spec, layer, weights);

    public IEnumerable<LinearProjection> Projections => [_attention, _attentionOutput, _up, _down];

    public void Forward(ForwardContext context, float[] hidden, int m, int start, TransformerKeyValueCache cache, int layer)
    {
        int d = _hidden;
        var normed = new float[m * d];
        _ln1.Apply(hidden, m, normed);
        var qkv = new float[m * 3 * d];
        _attention.Forward(context, normed, m, qkv);
        var q = new float[m * d];
        var k = new float[m * d];
        var v = new float[m * d];
        for (int t = 0; t < m; t++)
        {
            qkv.AsSpan(t * 3 * d, d).CopyTo(q.AsSpan(t * d, d));
            qkv.AsSpan(t * 3 * d + d, d).CopyTo(k.AsSpan(t * d, d));
            qkv.AsSpan(t * 3 * d + 2 * d, d).CopyTo(v.AsSpan(t * d, d));
        }
        var attended = new float[m * d];
        _attend.Forward(context, q, k, v, m, start, cache, layer, attended);
        _attentionOutput.Forward(context, attended, m, normed);
        Residual.Add(hidden, normed);

        _ln2.Apply(hidden, m, normed);
        var inner = new float[m * _up.Out];
        _up.Forward(context, normed, m, inner);
        Activations.GeluTanh(inner);
        _down.Forward(context, inner, m, normed);
        Residual.Add(hidden, normed);
    }

    private static LinearProjection Conv1D(CheckpointWeights w, string module, int inFeatures, int outFeatures)
    {
        var (name, weight) = w.Matrix(module, inFeatures, outFeatures);
        return new LinearProjection(name, weight, inputMajor: true, w.Vector(module, "bias", outFeatures));
    }
}
