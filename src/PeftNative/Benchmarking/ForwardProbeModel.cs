using System.Buffers.Binary;
using System.Text.Json.Nodes;
using PeftNative.Models;
using PeftNative.SafeTensors;

namespace PeftNative.Benchmarking;

/// <summary>
/// Writes a synthetic decoder with the shapes of a ~125M-parameter model to a directory, for
/// forward-pass throughput measurements: GPT-2 small (768 hidden, 12 layers, 12 heads, vocab 50257,
/// 1024 positions, tied head) or a LLaMA of the same size (768 hidden, 12 layers, 12 query / 4
/// key-value heads, 2048 intermediate, vocab 32000, untied head). Values are small deterministic
/// pseudo-random numbers (norm weights 1), streamed to the file tensor by tensor.
/// </summary>
public static class ForwardProbeModel
{
    /// <summary>Architectures <see cref="Write"/> knows: "gpt2" and "llama".</summary>
    public static IReadOnlyList<string> Architectures { get; } = ["gpt2", "llama"];

    /// <summary>Writes config.json and model.safetensors into <paramref name="directory"/> and returns the parameter count.</summary>
    /// <param name="directory">An existing directory.</param>
    /// <param name="architecture">"gpt2" or "llama".</param>
    /// <param name="dtype">F32, F16 or BF16 weights.</param>
    /// <exception cref="ArgumentException">Unknown architecture or a dtype other than F32/F16/BF16.</exception>
    public static long Write(string directory, string architecture, DType dtype)
    {
        ArgumentNullException.ThrowIfNull(directory);
        if (!dtype.IsKernelFloat())
            throw new ArgumentException($"dtype {dtype} is not F32, F16 or BF16", nameof(dtype));
        var (config, tensors) = architecture switch
        {
            "gpt2" => Gpt2(),
            "llama" => Llama(),
            _ => throw new ArgumentException($"unknown architecture '{architecture}' (gpt2, llama)", nameof(architecture)),
        };
        config["torch_dtype"] = dtype switch { DType.F16 => "float16", DType.BF16 => "bfloat16", _ => "float32" };
        File.WriteAllText(Path.Combine(directory, "config.json"), config.ToJsonString());
        uint seed = 1;
        var entries = tensors.Select(t =>
        {
            uint s = seed++;
            long count = t.Shape.Aggregate(1L, (a, b) => a * b);
            return SafetensorsEntry.FromWriter(t.Name, dtype, t.Shape, (stream, ct) => Fill(stream, dtype, count, t.Norm, s, ct));
        });
        SafetensorsWriter.Write(Path.Combine(directory, "model.safetensors"), entries, options: new SafetensorsWriteOptions { Durable = false });
        return tensors.Sum(t => t.Shape.Aggregate(1L, (a, b) => a * b));
    }

    private static (JsonObject, List<(string Name, long[] Shape, bool Norm)>) Gpt2()
    {
        const int d = 768, layers = 12, vocab = 50257, positions = 1024;
        var t = new List<(string, long[], bool)> { ("transformer.wte.weight", [vocab, d], false), ("transformer.wpe.weight", [positions, d], false) };
        for (int l = 0; l < layers; l++)
        {
            string p = $"transformer.h.{l}";
            t.AddRange([($"{p}.ln_1.weight", [d], true), ($"{p}.ln_1.bias", [d], false), ($"{p}.attn.c_attn.weight", [d, 3 * d], false),
                ($"{p}.attn.c_attn.bias", [3 * d], false), ($"{p}.attn.c_proj.weight", [d, d], false), ($"{p}.attn.c_proj.bias", [d], false),
                ($"{p}.ln_2.weight", [d], true), ($"{p}.ln_2.bias", [d], false), ($"{p}.mlp.c_fc.weight", [d, 4 * d], false),
                ($"{p}.mlp.c_fc.bias", [4 * d], false), ($"{p}.mlp.c_proj.weight", [4 * d, d], false), ($"{p}.mlp.c_proj.bias", [d], false)]);
        }
        t.AddRange([("transformer.ln_f.weight", [d], true), ("transformer.ln_f.bias", [d], false)]);
        var config = new JsonObject
        {
            ["model_type"] = "gpt2", ["n_embd"] = d, ["n_layer"] = layers, ["n_head"] = 12, ["n_positions"] = positions,
            ["vocab_size"] = vocab, ["layer_norm_epsilon"] = 1e-5, ["activation_function"] = "gelu_new",
        };
        return (config, t);
    }

    private static (JsonObject, List<(string Name, long[] Shape, bool Norm)>) Llama()
    {
        const int d = 768, layers = 12, heads = 12, kvHeads = 4, inner = 2048, vocab = 32000, hd = d / heads;
        var t = LlamaCheckpointLayout.Tensors(d, inner, layers, kvHeads * hd, vocab).Select(x => (x.Name, x.Shape, x.Shape.Length == 1)).ToList();
        var config = new JsonObject
        {
            ["model_type"] = "llama", ["hidden_size"] = d, ["num_hidden_layers"] = layers, ["num_attention_heads"] = heads,
            ["num_key_value_heads"] = kvHeads, ["intermediate_size"] = inner, ["max_position_embeddings"] = 2048, ["vocab_size"] = vocab,
            ["rms_norm_eps"] = 1e-5, ["rope_theta"] = 10000.0, ["tie_word_embeddings"] = false, ["hidden_act"] = "silu",
        };
        return (config, t);
    }

    // xorshift32 values in ±0.04 (norm weights 1), written in 64 KiB blocks.
    private static void Fill(Stream stream, DType dtype, long count, bool norm, uint seed, CancellationToken ct)
    {
        int size = dtype.SizeOf();
        var block = new byte[1 << 16];
        uint x = seed * 2654435761u | 1;
        long done = 0;
        while (done < count)
        {
            ct.ThrowIfCancellationRequested();
            int n = (int)Math.Min(block.Length / size, count - done);
            for (int i = 0; i < n; i++)
            {
                x ^= x << 13;
                x ^= x >> 17;
                x ^= x << 5;
                float v = norm ? 1f : ((x >> 8) * (1f / (1 << 24)) - 0.5f) * 0.08f;
                Span<byte> dst = block.AsSpan(i * size, size);
                switch (dtype)
                {
                    case DType.F32: BinaryPrimitives.WriteSingleLittleEndian(dst, v); break;
                    case DType.F16: BinaryPrimitives.WriteHalfLittleEndian(dst, (Half)v); break;
                    default: BinaryPrimitives.WriteUInt16LittleEndian(dst, (ushort)(BitConverter.SingleToInt32Bits(v) >> 16)); break;
                }
            }
            stream.Write(block, 0, n * size);
            done += n;
        }
    }
}
