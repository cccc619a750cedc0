using System.Globalization;
using System.Text.Json.Nodes;
using PeftNative.Adapters;
using PeftNative.SafeTensors;

namespace PeftNative.Tests.Models.Transformer;

/// <summary>The shape and settings of a small random decoder written for a test.</summary>
public sealed record RandomDecoderSpec(string Type, int Hidden, int Layers, int Heads, int KvHeads, int Inner, int Vocab, DType DType)
{
    public int? HeadDim { get; init; }
    public int MaxPositions { get; init; } = 32;
    public double Eps { get; init; } = 1e-5;
    public double Theta { get; init; } = 10000;
    public bool Tied { get; init; }
    public bool AttentionBias { get; init; }
    public bool MlpBias { get; init; }
    public int SlidingWindow { get; init; }
    public bool HubStyle { get; init; }
    public bool ScaleByInverseLayer { get; init; }

    public int EffectiveHeadDim => HeadDim ?? Hidden / Heads;

    public override string ToString() =>
        $"{Type} d{Hidden} h{Heads}/{KvHeads} hd{EffectiveHeadDim} {DType.ShortName()} theta{Theta.ToString(CultureInfo.InvariantCulture)} eps{Eps.ToString(CultureInfo.InvariantCulture)}{(Tied ? " tied" : "")}{(SlidingWindow > 0 ? $" window{SlidingWindow}" : "")}";
}

/// <summary>
/// Writes a random decoder (config.json + model.safetensors) in Hugging Face layout and returns
/// the <see cref="ReferenceDecoder"/> holding the same weights as stored (rounded to the dtype).
/// Values are never zero; matrices are scaled by 1/√fan_in so activations stay O(1).
/// </summary>
internal static class RandomDecoderCheckpoint
{
    public static ReferenceDecoder Write(string directory, RandomDecoderSpec s, Random rng, Dictionary<string, long[]>? shapes = null)
    {
        shapes ??= [];
        var tensors = Layout(s);
        var weights = new Dictionary<string, double[]>(StringComparer.Ordinal);
        var entries = new List<Tensor>();
        var names = new List<string>();
        try
        {
            foreach (var (name, shape, kind) in tensors)
            {
                var t = Tensor.Allocate(s.DType, shape);
                entries.Add(t);
                double fan = shape.Length == 2 ? (s.Type == "gpt2" && !name.EndsWith("wte.weight", StringComparison.Ordinal) && !name.EndsWith("wpe.weight", StringComparison.Ordinal) && !name.StartsWith("lm_head", StringComparison.Ordinal) ? shape[0] : shape[1]) : 1;
                for (long i = 0; i < t.ElementCount; i++)
                {
                    double v = kind switch
                    {
                        'n' => 1 + RandomTensors.NextSigned(rng, 0.01, 0.3),
                        'b' => RandomTensors.NextSigned(rng, 0.01, 0.2),
                        'e' => RandomTensors.NextSigned(rng, 0.05, 1.0),
                        _ => RandomTensors.NextSigned(rng, 0.05, 1.0) * 1.7 / Math.Sqrt(fan),
                    };
                    RandomTensors.Set(t, i, v);
                }
                weights[name] = RandomTensors.ToDoubles(t);
                shapes[name] = shape;
                names.Add(s.HubStyle && name.StartsWith("transformer.", StringComparison.Ordinal) ? name["transformer.".Length..] : name);
            }
            SafetensorsWriter.Write(Path.Combine(directory, "model.safetensors"), names.Select((n, i) => SafetensorsEntry.FromTensor(n, entries[i])));
        }
        finally
        {
            foreach (var t in entries)
                t.Dispose();
        }
        File.WriteAllText(Path.Combine(directory, "config.json"), Config(s).ToJsonString());
        return new ReferenceDecoder
        {
            Type = s.Type,
            Hidden = s.Hidden,
            Layers = s.Layers,
            Heads = s.Heads,
            KvHeads = s.KvHeads,
            HeadDim = s.EffectiveHeadDim,
            Inner = s.Inner,
            Vocab = s.Vocab,
            Eps = s.Eps,
            Theta = s.Theta,
            Tied = s.Tied,
            SlidingWindow = s.Type == "mistral" ? s.SlidingWindow : 0,
            ScaleByInverseLayer = s.ScaleByInverseLayer,
            W = weights,
        };
    }

    /// <summary>The projection module paths of layer <paramref name="layer"/> with their (in, out) features.</summary>
    public static IEnumerable<(string Module, int In, int Out)> Projections(RandomDecoderSpec s, int layer)
    {
        int d = s.Hidden, q = s.Heads * s.EffectiveHeadDim, kv = s.KvHeads * s.EffectiveHeadDim;
        if (s.Type == "gpt2")
        {
            string p = $"transformer.h.{layer}";
            return [($"{p}.attn.c_attn", d, 3 * d), ($"{p}.attn.c_proj", d, d), ($"{p}.mlp.c_fc", d, s.Inner), ($"{p}.mlp.c_proj", s.Inner, d)];
        }
        string l = $"model.layers.{layer}";
        return [($"{l}.self_attn.q_proj", d, q), ($"{l}.self_attn.k_proj", d, kv), ($"{l}.self_attn.v_proj", d, kv), ($"{l}.self_attn.o_proj", q, d),
            ($"{l}.mlp.gate_proj", d, s.Inner), ($"{l}.mlp.up_proj", d, s.Inner), ($"{l}.mlp.down_proj", s.Inner, d)];
    }

    private static List<(string Name, long[] Shape, char Kind)> Layout(RandomDecoderSpec s)
    {
        int d = s.Hidden, hd = s.EffectiveHeadDim, q = s.Heads * hd, kv = s.KvHeads * hd;
        var list = new List<(string, long[], char)>();
        if (s.Type == "gpt2")
        {
            list.Add(("transformer.wte.weight", [s.Vocab, d], 'e'));
            list.Add(("transformer.wpe.weight", [s.MaxPositions, d], 'e'));
            for (int l = 0; l < s.Layers; l++)
            {
                string p = $"transformer.h.{l}";
                list.AddRange([($"{p}.ln_1.weight", [d], 'n'), ($"{p}.ln_1.bias", [d], 'b'),
                    ($"{p}.attn.c_attn.weight", [d, 3 * d], 'w'), ($"{p}.attn.c_attn.bias", [3 * d], 'b'),
                    ($"{p}.attn.c_proj.weight", [d, d], 'w'), ($"{p}.attn.c_proj.bias", [d], 'b'),
                    ($"{p}.ln_2.weight", [d], 'n'), ($"{p}.ln_2.bias", [d], 'b'),
                    ($"{p}.mlp.c_fc.weight", [d, s.Inner], 'w'), ($"{p}.mlp.c_fc.bias", [s.Inner], 'b'),
                    ($"{p}.mlp.c_proj.weight", [s.Inner, d], 'w'), ($"{p}.mlp.c_proj.bias", [d], 'b')]);
            }
            list.AddRange([("transformer.ln_f.weight", [d], 'n'), ("transformer.ln_f.bias", [d], 'b')]);
        }
        else
        {
            bool qkvBias = s.Type == "qwen2" || (s.Type == "llama" && s.AttentionBias);
            list.Add(("model.embed_tokens.weight", [s.Vocab, d], 'e'));
            for (int l = 0; l < s.Layers; l++)
            {
                string p = $"model.layers.{l}";
                list.Add(($"{p}.input_layernorm.weight", [d], 'n'));
                foreach (var (name, outF, inF, bias) in new[] { ("q_proj", q, d, qkvBias), ("k_proj", kv, d, qkvBias), ("v_proj", kv, d, qkvBias), ("o_proj", d, q, s.Type == "llama" && s.AttentionBias) })
                {
                    list.Add(($"{p}.self_attn.{name}.weight", [outF, inF], 'w'));
                    if (bias)
                        list.Add(($"{p}.self_attn.{name}.bias", [outF], 'b'));
                }
                list.Add(($"{p}.post_attention_layernorm.weight", [d], 'n'));
                foreach (var (name, outF, inF) in new[] { ("gate_proj", s.Inner, d), ("up_proj", s.Inner, d), ("down_proj", d, s.Inner) })
                {
                    list.Add(($"{p}.mlp.{name}.weight", [outF, inF], 'w'));
                    if (s.Type == "llama" && s.MlpBias)
                        list.Add(($"{p}.mlp.{name}.bias", [outF], 'b'));
                }
            }
            list.Add(("model.norm.weight", [d], 'n'));
        }
        if (!s.Tied)
            list.Add(("lm_head.weight", [s.Vocab, d], 'w'));
        return list;
    }

    private static JsonObject Config(RandomDecoderSpec s)
    {
        string dtype = s.DType switch { DType.F16 => "float16", DType.BF16 => "bfloat16", _ => "float32" };
        if (s.Type == "gpt2")
        {
            return new JsonObject
            {
                ["model_type"] = "gpt2", ["n_embd"] = s.Hidden, ["n_layer"] = s.Layers, ["n_head"] = s.Heads, ["n_inner"] = s.Inner,
                ["n_positions"] = s.MaxPositions, ["vocab_size"] = s.Vocab, ["layer_norm_epsilon"] = s.Eps, ["tie_word_embeddings"] = s.Tied,
                ["activation_function"] = "gelu_new", ["scale_attn_by_inverse_layer_idx"] = s.ScaleByInverseLayer, ["torch_dtype"] = dtype,
            };
        }
        var c = new JsonObject
        {
            ["model_type"] = s.Type, ["hidden_size"] = s.Hidden, ["num_hidden_layers"] = s.Layers, ["num_attention_heads"] = s.Heads,
            ["num_key_value_heads"] = s.KvHeads, ["intermediate_size"] = s.Inner, ["max_position_embeddings"] = s.MaxPositions,
            ["vocab_size"] = s.Vocab, ["rms_norm_eps"] = s.Eps, ["rope_theta"] = s.Theta, ["tie_word_embeddings"] = s.Tied,
            ["hidden_act"] = "silu", ["rope_scaling"] = null, ["torch_dtype"] = dtype,
        };
        if (s.HeadDim is int hd)
            c["head_dim"] = hd;
        if (s.Type == "llama")
        {
            c["attention_bias"] = s.AttentionBias;
            c["mlp_bias"] = s.MlpBias;
        }
        if (s.Type == "mistral")
            c["sliding_window"] = s.SlidingWindow > 0 ? s.SlidingWindow : null;
        return c;
    }
}

/// <summary>A random LoRA or (IA)^3 adapter for a random decoder, with its factors as float64 for the reference.</summary>
internal sealed record RandomAdapter(PeftAdapter Adapter, List<(string Module, double[] A, double[] B, int Rank, double Scaling)> Lora,
    List<(string Module, double[] L, bool FeedForward)> Ia3)
{
    public static RandomAdapter CreateLora(RandomDecoderSpec s, Random rng, int rank, double alpha, DType dtype, bool rsLora = false)
    {
        var modules = new List<LoraModule>();
        var lora = new List<(string, double[], double[], int, double)>();
        for (int l = 0; l < s.Layers; l++)
        {
            foreach (var (module, inF, outF) in RandomDecoderCheckpoint.Projections(s, l))
            {
                var a = RandomTensors.Create(rng, dtype, [rank, inF], 0.05, 1.0 / Math.Sqrt(inF));
                var b = RandomTensors.Create(rng, dtype, [outF, rank], 0.05, 0.5);
                var m = new LoraModule(module, a, b, alpha, rsLora, fanInFanOut: s.Type == "gpt2");
                modules.Add(m);
                lora.Add((module, RandomTensors.ToDoubles(a), RandomTensors.ToDoubles(b), rank, m.Scaling));
            }
        }
        string[] targets = s.Type == "gpt2" ? ["c_attn", "c_proj", "c_fc"] : ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"];
        var config = AdapterConfig.CreateLora(rank, alpha, ModuleSelector.FromNames(targets), fanInFanOut: s.Type == "gpt2", useRsLora: rsLora);
        return new RandomAdapter(PeftAdapter.Create(config, modules), lora, []);
    }

    public static RandomAdapter CreateIa3(RandomDecoderSpec s, Random rng)
    {
        var modules = new List<Ia3Module>();
        var ia3 = new List<(string, double[], bool)>();
        // PEFT's defaults: GPT-2 c_attn (all of q, k, v) and mlp.c_proj; LLaMA k_proj, v_proj and down_proj (feed-forward).
        string[] outputs = s.Type == "gpt2" ? ["attn.c_attn"] : ["self_attn.k_proj", "self_attn.v_proj"];
        string ff = s.Type == "gpt2" ? "mlp.c_proj" : "mlp.down_proj";
        for (int l = 0; l < s.Layers; l++)
        {
            var proj = RandomDecoderCheckpoint.Projections(s, l).ToDictionary(p => p.Module);
            string prefix = s.Type == "gpt2" ? $"transformer.h.{l}." : $"model.layers.{l}.";
            foreach (var name in outputs.Append(ff))
            {
                bool feedForward = name == ff;
                var (module, inF, outF) = proj[prefix + name];
                var v = Tensor.Allocate(DType.F32, feedForward ? [1, inF] : [outF, 1]);
                for (long i = 0; i < v.ElementCount; i++)
                    RandomTensors.Set(v, i, 1 + RandomTensors.NextSigned(rng, 0.05, 0.6));
                modules.Add(new Ia3Module(module, v, feedForward, fanInFanOut: s.Type == "gpt2"));
                ia3.Add((module, RandomTensors.ToDoubles(v), feedForward));
            }
        }
        var config = AdapterConfig.CreateIa3(ModuleSelector.FromNames(outputs.Append(ff)), ModuleSelector.FromNames([ff]), fanInFanOut: s.Type == "gpt2");
        return new RandomAdapter(PeftAdapter.Create(config, ia3Modules: modules), [], ia3);
    }

    /// <summary>Applies this adapter with <paramref name="weight"/> to the reference's weights (LoRA: W += w·s·BA; (IA)^3: l → 1 + w(l − 1)).</summary>
    public void ApplyLora(ReferenceDecoder reference, double weight)
    {
        foreach (var (module, a, b, rank, s) in Lora)
            reference.AddLora(module, a, b, rank, weight * s);
    }

    public void ApplyIa3(ReferenceDecoder reference, double weight)
    {
        foreach (var (module, l, ff) in Ia3)
            reference.ScaleIa3(module, l.Select(v => 1 + weight * (v - 1)).ToArray(), ff);
    }
}
