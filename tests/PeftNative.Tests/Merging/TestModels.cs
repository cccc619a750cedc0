using System.Security.Cryptography;
using System.Text.Json.Nodes;
using PeftNative.Adapters;
using PeftNative.SafeTensors;

namespace PeftNative.Tests.Merging;

/// <summary>
/// Small random models in Hugging Face layout for the merge tests: a LLaMA-style model (Linear
/// weights [out, in], odd sizes, no biases) and a GPT-2-style one (Conv1D weights [in, out] with
/// biases), in any float dtype, optionally sharded; LoRA and (IA)^3 adapters that fit them; and
/// helpers to hash directories and read tensors back as doubles.
/// </summary>
internal static class TestModels
{
    public const int Hidden = 24, KeyValue = 12, Intermediate = 37, Vocab = 19;

    /// <summary>A fresh empty directory under the temporary directory, removed by <see cref="Delete"/>.</summary>
    public static string NewDirectory(string label)
    {
        string dir = Path.Combine(Path.GetTempPath(), $"peftnative-merge-tests-{label}-{Guid.NewGuid():N}");
        Directory.CreateDirectory(dir);
        return dir;
    }

    public static void Delete(string dir)
    {
        if (Directory.Exists(dir))
            Directory.Delete(dir, recursive: true);
    }

    /// <summary>LLaMA-style tensor shapes by name (two layers).</summary>
    public static IEnumerable<(string Name, long[] Shape)> LlamaShapes(int layers = 2, int hidden = Hidden, int kv = KeyValue, int intermediate = Intermediate, int vocab = Vocab)
    {
        yield return ("model.embed_tokens.weight", [vocab, hidden]);
        for (int i = 0; i < layers; i++)
        {
            string p = $"model.layers.{i}.";
            yield return (p + "self_attn.q_proj.weight", [hidden, hidden]);
            yield return (p + "self_attn.k_proj.weight", [kv, hidden]);
            yield return (p + "self_attn.v_proj.weight", [kv, hidden]);
            yield return (p + "self_attn.o_proj.weight", [hidden, hidden]);
            yield return (p + "mlp.gate_proj.weight", [intermediate, hidden]);
            yield return (p + "mlp.up_proj.weight", [intermediate, hidden]);
            yield return (p + "mlp.down_proj.weight", [hidden, intermediate]);
            yield return (p + "input_layernorm.weight", [hidden]);
            yield return (p + "post_attention_layernorm.weight", [hidden]);
        }
        yield return ("model.norm.weight", [hidden]);
        yield return ("lm_head.weight", [vocab, hidden]);
    }

    /// <summary>GPT-2-style tensor shapes (Conv1D weights stored [in, out], with biases).</summary>
    public static IEnumerable<(string Name, long[] Shape)> Gpt2Shapes(int layers = 2, int n = Hidden, int vocab = Vocab)
    {
        yield return ("transformer.wte.weight", [vocab, n]);
        yield return ("transformer.wpe.weight", [16, n]);
        for (int i = 0; i < layers; i++)
        {
            string p = $"transformer.h.{i}.";
            yield return (p + "ln_1.weight", [n]);
            yield return (p + "ln_1.bias", [n]);
            yield return (p + "attn.c_attn.weight", [n, 3 * n]);
            yield return (p + "attn.c_attn.bias", [3 * n]);
            yield return (p + "attn.c_proj.weight", [n, n]);
            yield return (p + "attn.c_proj.bias", [n]);
            yield return (p + "ln_2.weight", [n]);
            yield return (p + "ln_2.bias", [n]);
            yield return (p + "mlp.c_fc.weight", [n, 4 * n]);
            yield return (p + "mlp.c_fc.bias", [4 * n]);
            yield return (p + "mlp.c_proj.weight", [4 * n, n]);
            yield return (p + "mlp.c_proj.bias", [n]);
        }
        yield return ("transformer.ln_f.weight", [n]);
        yield return ("transformer.ln_f.bias", [n]);
    }

    /// <summary>Writes a model directory with random weights; returns it.</summary>
    public static string Write(string dir, string modelType, IEnumerable<(string Name, long[] Shape)> shapes, DType dtype, Random rng,
        long? maxShardBytes = null, bool withTokenizer = false)
    {
        Directory.CreateDirectory(dir);
        var tensors = shapes.Select(s => (s.Name, Tensor: RandomTensors.Create(rng, dtype, s.Shape))).ToList();
        try
        {
            SafetensorsWriter.Write(Path.Combine(dir, "model.safetensors"), tensors.Select(t => SafetensorsEntry.FromTensor(t.Name, t.Tensor)),
                new Dictionary<string, string> { ["format"] = "pt" }, new SafetensorsWriteOptions { MaxShardBytes = maxShardBytes, Durable = false });
        }
        finally
        {
            foreach (var t in tensors)
                t.Tensor.Dispose();
        }
        var config = new JsonObject
        {
            ["model_type"] = modelType,
            ["torch_dtype"] = dtype switch { DType.BF16 => "bfloat16", DType.F16 => "float16", _ => "float32" },
            ["hidden_size"] = Hidden,
            ["vocab_size"] = Vocab,
        };
        File.WriteAllText(Path.Combine(dir, "config.json"), config.ToJsonString());
        File.WriteAllText(Path.Combine(dir, "generation_config.json"), "{\"do_sample\": false}\n");
        if (withTokenizer)
            File.WriteAllText(Path.Combine(dir, "tokenizer.json"), "{\"model\": {\"type\": \"BPE\"}}\n");
        return dir;
    }

    /// <summary>A LoRA adapter with random factors of <paramref name="rank"/> on the given module paths.</summary>
    public static PeftAdapter Lora(Random rng, IEnumerable<(string Module, long Out, long In)> modules, int rank, double alpha, DType factorType,
        bool fanInFanOut = false, IEnumerable<AdapterExtraTensor>? extras = null)
    {
        var list = modules.ToList();
        var config = AdapterConfig.CreateLora(rank, alpha, ModuleSelector.FromNames(list.Select(m => m.Module.Split('.')[^1]).Distinct()), fanInFanOut);
        var lora = list.Select(m => LoraModule.FromConfig(config, m.Module,
            RandomTensors.Create(rng, factorType, [rank, m.In], 0.05, 0.5), RandomTensors.Create(rng, factorType, [m.Out, rank], 0.05, 0.5))).ToList();
        return PeftAdapter.Create(config, lora, extraTensors: extras);
    }

    /// <summary>An (IA)^3 adapter: l in [0.5, 1.5] (never 0) for each module, feed-forward ones scaling inputs.</summary>
    public static PeftAdapter Ia3(Random rng, IEnumerable<(string Module, long Length, bool FeedForward)> modules, bool fanInFanOut, DType dtype = DType.F32)
    {
        var list = modules.ToList();
        var targets = ModuleSelector.FromNames(list.Select(m => m.Module.Split('.')[^1]).Distinct());
        var ff = list.Where(m => m.FeedForward).Select(m => m.Module.Split('.')[^1]).Distinct().ToList();
        var config = AdapterConfig.CreateIa3(targets, ff.Count == 0 ? null : ModuleSelector.FromNames(ff), fanInFanOut);
        var ia3 = list.Select(m =>
        {
            var l = Tensor.Allocate(dtype, m.FeedForward ? [1, m.Length] : [m.Length, 1]);
            for (long i = 0; i < m.Length; i++)
                RandomTensors.Set(l, i, 1 + RandomTensors.NextSigned(rng, 0.05, 0.5));
            return Ia3Module.FromConfig(config, m.Module, l);
        }).ToList();
        return PeftAdapter.Create(config, ia3Modules: ia3);
    }

    /// <summary>SHA-256 of every file under <paramref name="dir"/> (relative name → hash), to prove inputs unchanged.</summary>
    public static Dictionary<string, string> Hashes(string dir) =>
        Directory.EnumerateFiles(dir, "*", SearchOption.AllDirectories)
            .ToDictionary(f => Path.GetRelativePath(dir, f), f => Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(f))));

    /// <summary>A tensor of a model read as doubles, with its dtype and shape.</summary>
    public static (double[] Values, DType DType, long[] Shape) Read(string modelDir, string name)
    {
        using var weights = SafetensorsCollection.Open(modelDir);
        using var t = weights.GetTensor(name);
        return (RandomTensors.ToDoubles(t), t.DType, t.Shape.ToArray());
    }

    /// <summary>The raw bytes of a tensor of a model.</summary>
    public static byte[] Bytes(string modelDir, string name)
    {
        using var weights = SafetensorsCollection.Open(modelDir);
        using var t = weights.GetTensor(name);
        return RandomTensors.Bytes(t);
    }

    /// <summary>The directory's siblings that a merge into <paramref name="output"/> would leave as temporaries.</summary>
    public static string[] Temporaries(string output) =>
        Directory.GetDirectories(Path.GetDirectoryName(Path.GetFullPath(output))!, "." + Path.GetFileName(output) + ".peftnative-*");
}
