using PeftNative.Adapters;
using PeftNative.Models;
using PeftNative.SafeTensors;

namespace PeftNative.Benchmarking;

/// <summary>The probe's synthetic LLaMA-shaped model and its LoRA.</summary>
public static partial class MergeProbe
{
    /// <summary>The synthetic model and adapter.</summary>
    private static class SyntheticModel
    {
        /// <summary>Writes config.json and the weights (random bf16 of magnitude about 0.01-0.1, streamed); returns the data bytes.</summary>
        public static long Write(string directory, MergeProbeOptions o)
        {
            System.IO.Directory.CreateDirectory(directory);
            File.WriteAllText(Path.Combine(directory, "config.json"),
                $"{{\"model_type\": \"llama\", \"architectures\": [\"LlamaForCausalLM\"], \"torch_dtype\": \"bfloat16\", \"hidden_size\": {o.Hidden}, " +
                $"\"intermediate_size\": {o.Intermediate}, \"num_hidden_layers\": {o.Layers}, \"vocab_size\": {o.Vocab}, \"tie_word_embeddings\": false}}\n");
            var entries = Shapes(o).Select(s => SafetensorsEntry.FromWriter(s.Name, DType.BF16, s.Shape, (stream, token) => Fill(stream, s.Shape, s.Name.GetHashCode(StringComparison.Ordinal), token)));
            var result = SafetensorsWriter.Write(Path.Combine(directory, "model.safetensors"), entries, new Dictionary<string, string> { ["format"] = "pt" },
                new SafetensorsWriteOptions { MaxShardBytes = o.ShardBytes, Durable = false });
            return result.TotalDataBytes;
        }

        /// <summary>A rank-r LoRA with bf16 factors on every projection of every layer.</summary>
        public static PeftAdapter Adapter(MergeProbeOptions o)
        {
            var config = AdapterConfig.CreateLora(o.Rank, 2 * o.Rank, ModuleSelector.FromNames(Projections));
            var modules = new List<LoraModule>();
            int seed = 1;
            foreach (var (name, shape) in Shapes(o).Where(s => Projections.Any(p => s.Name.Contains(p, StringComparison.Ordinal))))
            {
                var a = Tensor.Allocate(DType.BF16, o.Rank, shape[1]);
                var b = Tensor.Allocate(DType.BF16, shape[0], o.Rank);
                FillTensor(a, seed++);
                FillTensor(b, seed++);
                modules.Add(LoraModule.FromConfig(config, name[..^".weight".Length], a, b));
            }
            return PeftAdapter.Create(config, modules);
        }

        private static IEnumerable<(string Name, long[] Shape)> Shapes(MergeProbeOptions o) =>
            LlamaCheckpointLayout.Tensors(o.Hidden, o.Intermediate, o.Layers, o.KeyValue, o.Vocab);

        private static void Fill(Stream stream, long[] shape, int seed, CancellationToken token)
        {
            long count = shape.Aggregate(1L, (a, b) => a * b);
            var buffer = new ushort[1 << 20];
            ulong state = (ulong)seed * 0x9E3779B97F4A7C15UL | 1;
            for (long done = 0; done < count; done += buffer.Length)
            {
                token.ThrowIfCancellationRequested();
                int n = (int)Math.Min(buffer.Length, count - done);
                for (int i = 0; i < n; i++)
                    buffer[i] = NextBf16(ref state);
                stream.Write(System.Runtime.InteropServices.MemoryMarshal.AsBytes(buffer.AsSpan(0, n)));
            }
        }

        private static void FillTensor(Tensor t, int seed)
        {
            ulong state = (ulong)seed * 0x9E3779B97F4A7C15UL | 1;
            var span = t.AsSpan<ushort>();
            for (int i = 0; i < span.Length; i++)
                span[i] = NextBf16(ref state);
        }

        /// <summary>xorshift64: random sign and mantissa, exponent 2^-7..2^-4 (no zeros, no non-finite values).</summary>
        private static ushort NextBf16(ref ulong state)
        {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            uint r = (uint)(state >> 32);
            uint exponent = 120 + (r & 3);
            return (ushort)(((r >> 2) & 0x8000) | (exponent << 7) | ((r >> 8) & 0x7F));
        }
    }
}
