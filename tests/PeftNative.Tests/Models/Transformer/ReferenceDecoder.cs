namespace PeftNative.Tests.Models.Transformer;

/// <summary>
/// A float64 decoder forward pass in plain loops, written from transformers' modeling_gpt2.py and
/// modeling_llama.py (GPT2Attention/GPT2MLP; LlamaRMSNorm, rotate_half, repeat_kv, LlamaMLP),
/// sharing no code with the library. Weights are keyed by the canonical checkpoint names
/// (<c>transformer.h.0.attn.c_attn.weight</c>, <c>model.layers.0.self_attn.q_proj.weight</c>),
/// stored as in the checkpoint (Conv1D [in, out], Linear [out, in]).
/// </summary>
internal sealed class ReferenceDecoder
{
    public required string Type { get; init; }
    public required int Hidden { get; init; }
    public required int Layers { get; init; }
    public required int Heads { get; init; }
    public required int KvHeads { get; init; }
    public required int HeadDim { get; init; }
    public required int Inner { get; init; }
    public required int Vocab { get; init; }
    public required double Eps { get; init; }
    public double Theta { get; init; } = 10000;
    public bool Tied { get; init; }
    public int SlidingWindow { get; init; }
    public bool ScaleByInverseLayer { get; init; }
    public required Dictionary<string, double[]> W { get; init; }

    /// <summary>Logits [T, V] of the whole sequence.</summary>
    public double[][] Logits(int[] tokens) => Type == "gpt2" ? Gpt2(tokens) : Llama(tokens);

    /// <summary>W += s·B A (or its transpose for a Conv1D weight stored [in, out]).</summary>
    public void AddLora(string module, double[] a, double[] b, int rank, double s)
    {
        double[] w = W[module + ".weight"];
        bool conv = Type == "gpt2";
        int outF = b.Length / rank, inF = a.Length / rank;
        for (int o = 0; o < outF; o++)
        {
            for (int i = 0; i < inF; i++)
            {
                double d = 0;
                for (int r = 0; r < rank; r++)
                    d += b[o * rank + r] * a[r * inF + i];
                w[conv ? i * outF + o : o * inF + i] += s * d;
            }
        }
    }

    /// <summary>Embedding LoRA (PEFT lora.Embedding): E[v, i] += s · Σ_r B[i, r] A[r, v], A [r, vocab], B [hidden, r].</summary>
    public void AddEmbeddingLora(string tensor, double[] a, double[] b, int rank, double s)
    {
        double[] e = W[tensor];
        for (int v = 0; v < Vocab; v++)
            for (int i = 0; i < Hidden; i++)
                for (int r = 0; r < rank; r++)
                    e[v * Hidden + i] += s * b[i * rank + r] * a[r * Vocab + v];
    }

    /// <summary>lora_bias: the module's bias gains s · b_B (a bias is created for a bias-free Linear).</summary>
    public void AddBias(string module, double[] bias, double s)
    {
        if (!W.TryGetValue(module + ".bias", out var b))
            W[module + ".bias"] = b = new double[bias.Length];
        for (int i = 0; i < b.Length; i++)
            b[i] += s * bias[i];
    }

    /// <summary>(IA)^3: scales output features of W and its bias, or input features of W.</summary>
    public void ScaleIa3(string module, double[] l, bool feedForward)
    {
        double[] w = W[module + ".weight"];
        bool conv = Type == "gpt2";
        int n = l.Length, other = w.Length / n;
        int outF = feedForward ? other : n, inF = feedForward ? n : other;
        for (int o = 0; o < outF; o++)
            for (int i = 0; i < inF; i++)
                w[conv ? i * outF + o : o * inF + i] *= feedForward ? l[i] : l[o];
        if (!feedForward && W.TryGetValue(module + ".bias", out var bias))
            for (int o = 0; o < n; o++)
                bias[o] *= l[o];
    }

    private double[][] Gpt2(int[] tokens)
    {
        int T = tokens.Length, d = Hidden;
        var h = new double[T][];
        for (int t = 0; t < T; t++)
        {
            h[t] = new double[d];
            for (int i = 0; i < d; i++)
                h[t][i] = W["transformer.wte.weight"][tokens[t] * d + i] + W["transformer.wpe.weight"][t * d + i];
        }
        for (int l = 0; l < Layers; l++)
        {
            string p = $"transformer.h.{l}";
            var a = h.Select(x => LayerNorm(x, W[p + ".ln_1.weight"], W[p + ".ln_1.bias"])).ToArray();
            var qkv = a.Select(x => Conv1D(x, W[p + ".attn.c_attn.weight"], W[p + ".attn.c_attn.bias"])).ToArray();
            var q = qkv.Select(x => x[..d]).ToArray();
            var k = qkv.Select(x => x[d..(2 * d)]).ToArray();
            var v = qkv.Select(x => x[(2 * d)..]).ToArray();
            double scale = 1 / Math.Sqrt(HeadDim) / (ScaleByInverseLayer ? l + 1 : 1);
            var o = Attend(q, k, v, scale, Heads, Heads, 0);
            for (int t = 0; t < T; t++)
                Add(h[t], Conv1D(o[t], W[p + ".attn.c_proj.weight"], W[p + ".attn.c_proj.bias"]));
            for (int t = 0; t < T; t++)
            {
                var f = Conv1D(LayerNorm(h[t], W[p + ".ln_2.weight"], W[p + ".ln_2.bias"]), W[p + ".mlp.c_fc.weight"], W[p + ".mlp.c_fc.bias"]);
                for (int i = 0; i < f.Length; i++)
                    f[i] = 0.5 * f[i] * (1 + Math.Tanh(Math.Sqrt(2 / Math.PI) * (f[i] + 0.044715 * Math.Pow(f[i], 3))));
                Add(h[t], Conv1D(f, W[p + ".mlp.c_proj.weight"], W[p + ".mlp.c_proj.bias"]));
            }
        }
        string head = Tied ? "transformer.wte.weight" : "lm_head.weight";
        return h.Select(x => Linear(LayerNorm(x, W["transformer.ln_f.weight"], W["transformer.ln_f.bias"]), W[head], null)).ToArray();
    }

    private double[][] Llama(int[] tokens)
    {
        int T = tokens.Length, d = Hidden;
        var h = tokens.Select(tok => W["model.embed_tokens.weight"].AsSpan(tok * d, d).ToArray()).ToArray();
        for (int l = 0; l < Layers; l++)
        {
            string p = $"model.layers.{l}";
            var a = h.Select(x => RmsNorm(x, W[p + ".input_layernorm.weight"])).ToArray();
            var q = a.Select(x => Linear(x, W[p + ".self_attn.q_proj.weight"], Bias(p + ".self_attn.q_proj"))).ToArray();
            var k = a.Select(x => Linear(x, W[p + ".self_attn.k_proj.weight"], Bias(p + ".self_attn.k_proj"))).ToArray();
            var v = a.Select(x => Linear(x, W[p + ".self_attn.v_proj.weight"], Bias(p + ".self_attn.v_proj"))).ToArray();
            for (int t = 0; t < T; t++)
            {
                Rope(q[t], Heads, t);
                Rope(k[t], KvHeads, t);
            }
            var o = Attend(q, k, v, 1 / Math.Sqrt(HeadDim), Heads, KvHeads, SlidingWindow);
            for (int t = 0; t < T; t++)
                Add(h[t], Linear(o[t], W[p + ".self_attn.o_proj.weight"], Bias(p + ".self_attn.o_proj")));
            for (int t = 0; t < T; t++)
            {
                var x = RmsNorm(h[t], W[p + ".post_attention_layernorm.weight"]);
                var g = Linear(x, W[p + ".mlp.gate_proj.weight"], Bias(p + ".mlp.gate_proj"));
                var u = Linear(x, W[p + ".mlp.up_proj.weight"], Bias(p + ".mlp.up_proj"));
                for (int i = 0; i < g.Length; i++)
                    g[i] = g[i] / (1 + Math.Exp(-g[i])) * u[i];
                Add(h[t], Linear(g, W[p + ".mlp.down_proj.weight"], Bias(p + ".mlp.down_proj")));
            }
        }
        string head = Tied ? "model.embed_tokens.weight" : "lm_head.weight";
        return h.Select(x => Linear(RmsNorm(x, W["model.norm.weight"]), W[head], null)).ToArray();
    }

    // The bias of a Linear when the checkpoint (or a lora_bias update) has one.
    private double[]? Bias(string module) => W.GetValueOrDefault(module + ".bias");

    // rotate_half: q*cos + cat(-q2, q1)*sin with emb = cat(freqs, freqs).
    private void Rope(double[] x, int heads, int pos)
    {
        int half = HeadDim / 2;
        for (int h = 0; h < heads; h++)
        {
            int o = h * HeadDim;
            var copy = x.AsSpan(o, HeadDim).ToArray();
            for (int i = 0; i < HeadDim; i++)
            {
                double angle = pos / Math.Pow(Theta, 2.0 * (i % half) / HeadDim);
                double rotated = i < half ? -copy[i + half] : copy[i - half];
                x[o + i] = copy[i] * Math.Cos(angle) + rotated * Math.Sin(angle);
            }
        }
    }

    private double[][] Attend(double[][] q, double[][] k, double[][] v, double scale, int heads, int kvHeads, int window)
    {
        int T = q.Length;
        var output = new double[T][];
        for (int t = 0; t < T; t++)
        {
            output[t] = new double[heads * HeadDim];
            for (int h = 0; h < heads; h++)
            {
                int kh = h / (heads / kvHeads);
                var scores = new double[t + 1];
                double max = double.NegativeInfinity;
                for (int j = 0; j <= t; j++)
                {
                    bool visible = window == 0 || j > t - window;
                    double s = 0;
                    for (int i = 0; i < HeadDim; i++)
                        s += q[t][h * HeadDim + i] * k[j][kh * HeadDim + i];
                    scores[j] = visible ? s * scale : double.NegativeInfinity;
                    max = Math.Max(max, scores[j]);
                }
                double sum = 0;
                for (int j = 0; j <= t; j++)
                    sum += scores[j] = Math.Exp(scores[j] - max);
                for (int j = 0; j <= t; j++)
                    for (int i = 0; i < HeadDim; i++)
                        output[t][h * HeadDim + i] += scores[j] / sum * v[j][kh * HeadDim + i];
            }
        }
        return output;
    }

    private double[] LayerNorm(double[] x, double[] w, double[] b)
    {
        double mean = x.Average();
        double var = x.Select(v => (v - mean) * (v - mean)).Average();
        return x.Select((v, i) => (v - mean) / Math.Sqrt(var + Eps) * w[i] + b[i]).ToArray();
    }

    private double[] RmsNorm(double[] x, double[] w)
    {
        double ms = x.Select(v => v * v).Average();
        return x.Select((v, i) => w[i] * (v / Math.Sqrt(ms + Eps))).ToArray();
    }

    // x @ W + b with W [in, out].
    private static double[] Conv1D(double[] x, double[] w, double[] b)
    {
        int n = b.Length;
        var y = (double[])b.Clone();
        for (int i = 0; i < x.Length; i++)
            for (int o = 0; o < n; o++)
                y[o] += x[i] * w[i * n + o];
        return y;
    }

    // W x + b with W [out, in].
    private static double[] Linear(double[] x, double[] w, double[]? b)
    {
        int n = w.Length / x.Length;
        var y = new double[n];
        for (int o = 0; o < n; o++)
        {
            double s = b?[o] ?? 0;
            for (int i = 0; i < x.Length; i++)
                s += w[o * x.Length + i] * x[i];
            y[o] = s;
        }
        return y;
    }

    private static void Add(double[] h, double[] delta)
    {
        for (int i = 0; i < h.Length; i++)
            h[i] += delta[i];
    }
}
