namespace PeftNative.Models.Transformer;

/// <summary>
/// A LLaMA / Mistral / Qwen2 decoder layer (transformers' LlamaDecoderLayer):
/// x += o_proj(attn(rope(q_proj(h)), rope(k_proj(h)), v_proj(h))) with h = input_layernorm(x),
/// then x += down_proj(silu(gate_proj(h)) · up_proj(h)) with h = post_attention_layernorm(x).
/// nn.Linear weights (out × in); biases where the config says so.
/// </summary>
internal sealed class LlamaBlock : IDecoderBlock
{
    private readonly int _hidden;
    private readonly RmsNorm _inputNorm;
    private readonly RmsNorm _postAttentionNorm;
    private readonly LinearProjection _q;
    private readonly LinearProjection _k;
    private readonly LinearProjection _v;
    private readonly LinearProjection _o;
    private readonly LinearProjection _gate;
    private readonly LinearProjection _up;
    private readonly LinearProjection _down;
    private readonly CausalSelfAttention _attend;

    private LlamaBlock(ArchitectureSpec spec, int layer, CheckpointWeights w, RotaryEmbedding rotary)
    {
        string p = $"model.layers.{layer}";
        int d = spec.HiddenSize, inner = spec.IntermediateSize;
        _hidden = d;
        _inputNorm = new RmsNorm(w.Vector($"{p}.input_layernorm", "weight", d), spec.NormEpsilon);
        _postAttentionNorm = new RmsNorm(w.Vector($"{p}.post_attention_layernorm", "weight", d), spec.NormEpsilon);
        _q = Linear(w, $"{p}.self_attn.q_proj", d, spec.QueryWidth, spec.QkvBias);
        _k = Linear(w, $"{p}.self_attn.k_proj", d, spec.KeyValueWidth, spec.QkvBias);
        _v = Linear(w, $"{p}.self_attn.v_proj", d, spec.KeyValueWidth, spec.QkvBias);
        _o = Linear(w, $"{p}.self_attn.o_proj", spec.QueryWidth, d, spec.OutputProjectionBias);
        _gate = Linear(w, $"{p}.mlp.gate_proj", d, inner, spec.MlpBias);
        _up = Linear(w, $"{p}.mlp.up_proj", d, inner, spec.MlpBias);
        _down = Linear(w, $"{p}.mlp.down_proj", inner, d, spec.MlpBias);
        _attend = new CausalSelfAttention(spec.Heads, spec.KeyValueHeads, spec.HeadDim, 1f / MathF.Sqrt(spec.HeadDim), rotary, spec.SlidingWindow[layer]);
    }

    public static LlamaBlock Load(ArchitectureSpec spec, int layer, CheckpointWeights weights, RotaryEmbedding rotary) =>
        new(spec, layer, weights, rotary);

    public IEnumerable<LinearProjection> Projections => [_q, _k, _v, _o, _gate, _up, _down];

    public void Forward(ForwardContext context, float[] hidden, int m, int start, TransformerKeyValueCache cache, int layer)
    {
        int d = _hidden;
        var normed = new float[m * d];
        _inputNorm.Apply(hidden, m, normed);
        var q = new float[m * _q.Out];
        var k = new float[m * _k.Out];
        var v = new float[m * _v.Out];
        _q.Forward(context, normed, m, q);
        _k.Forward(context, normed, m, k);
        _v.Forward(context, normed, m, v);
        var attended = new float[m * _q.Out];
        _attend.Forward(context, q, k, v, m, start, cache, layer, attended);
        _o.Forward(context, attended, m, normed);
        Residual.Add(hidden, normed);

        _postAttentionNorm.Apply(hidden, m, normed);
        var gate = new float[m * _gate.Out];
        var up = new float[m * _up.Out];
        _gate.Forward(context, normed, m, gate);
        _up.Forward(context, normed, m, up);
        Activations.SiluMultiply(gate, up);
        _down.Forward(context, gate, m, normed);
        Residual.Add(hidden, normed);
    }

    private static LinearProjection Linear(CheckpointWeights w, string module, int inFeatures, int outFeatures, bool bias)
    {
        var (name, weight) = w.Matrix(module, outFeatures, inFeatures);
        return new LinearProjection(name, weight, inputMajor: false, bias ? w.Vector(module, "bias", outFeatures) : null);
    }
}
