using System.Text.Json.Nodes;
using PeftNative.Adapters;
using PeftNative.Models;
using PeftNative.SafeTensors;

namespace PeftNative.Demo;

/// <summary>
/// The demo's files: a small deterministic LLaMA-style model (random weights, f32) and LoRA and
/// (IA)^3 adapters shaped like the paper's four uses. Adapters of the demo share one LoRA
/// initialisation for A, as modules trained from one initialisation do (the paper's addition
/// relies on it); adapters of one task share a direction in B or l.
/// </summary>
public sealed class DemoWorkspace
{
    /// <summary>The adapters the demo writes.</summary>
    public static IReadOnlyList<DemoAdapterSpec> AdapterSpecs { get; } =
    [
        new("reviews_split1", false, "reviews", 11), new("reviews_split2", false, "reviews", 12),
        new("sentiment", false, "sentiment", 21), new("nli", false, "nli", 22),
        new("instruct", false, "instruct", 31), new("toxic", false, "toxic", 32),
        new("sentiment_amazon", false, "sentiment_amazon", 41), new("lm_yelp", false, "lm_yelp", 42), new("lm_amazon", false, "lm_amazon", 43),
        new("ia3_reviews_split1", true, "reviews", 51), new("ia3_reviews_split2", true, "reviews", 52),
    ];

    /// <summary>The compositions the demo runs: the paper's four uses (and one with (IA)^3).</summary>
    public static IReadOnlyList<DemoComposition> Compositions { get; } =
    [
        new("distribution generalisation (LoRA)", "generalised", "0.5*reviews_split1 + 0.5*reviews_split2"),
        new("distribution generalisation ((IA)^3)", "generalised_ia3", "0.5*ia3_reviews_split1 + 0.5*ia3_reviews_split2"),
        new("multi-tasking", "multitask", "sentiment + nli"),
        new("unlearning (negation)", "detoxified", "instruct - 0.5*toxic"),
        new("analogy a + (b - c)", "yelp_sentiment", "sentiment_amazon + (lm_yelp - lm_amazon)"),
    ];

    /// <summary>LoRA targets and rank (as Alpaca-LoRA: q_proj and v_proj).</summary>
    public static IReadOnlyList<string> LoraTargets { get; } = ["q_proj", "v_proj"];

    /// <summary>(IA)^3 targets (PEFT's LLaMA default: k_proj, v_proj and the feed-forward down_proj).</summary>
    public static IReadOnlyList<string> Ia3Targets { get; } = ["k_proj", "v_proj", "down_proj"];

    /// <summary>LoRA rank.</summary>
    public const int LoraRank = 8;

    /// <summary>LoRA alpha (scaling alpha / r = 2).</summary>
    public const double LoraAlpha = 16;

    private DemoWorkspace(string root, DemoModelShape shape)
    {
        Root = root;
        Shape = shape;
    }

    /// <summary>The directory holding everything.</summary>
    public string Root { get; }

    /// <summary>The model's shape.</summary>
    public DemoModelShape Shape { get; }

    /// <summary>The base model directory (config.json + model.safetensors).</summary>
    public string ModelDirectory => Path.Combine(Root, "model");

    /// <summary>The directory of an adapter by name.</summary>
    public string AdapterDirectory(string name) => Path.Combine(Root, "adapters", name);

    /// <summary>The directory of a composed adapter by name.</summary>
    public string CompositionDirectory(string name) => Path.Combine(Root, "composed", name);

    /// <summary>Bytes of tensor data in the base model.</summary>
    public long ModelBytes { get; private set; }

    /// <summary>Writes the model and adapters into <paramref name="root"/> (created if needed; must hold no demo files yet).</summary>
    public static DemoWorkspace Create(string root, DemoModelShape? shape = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(root);
        var workspace = new DemoWorkspace(Path.GetFullPath(root), shape ?? new DemoModelShape());
        EnsureFree(workspace.Root);
        Directory.CreateDirectory(workspace.ModelDirectory);
        workspace.WriteModel(cancellationToken);
        foreach (var spec in AdapterSpecs)
            workspace.WriteAdapter(spec, cancellationToken);
        return workspace;
    }

    /// <summary>Throws when <paramref name="root"/> already holds demo files (the demo never overwrites).</summary>
    /// <exception cref="IOException">A demo subdirectory exists.</exception>
    public static void EnsureFree(string root)
    {
        foreach (string sub in new[] { "model", "adapters", "composed", "merged" })
            if (Directory.Exists(Path.Combine(Path.GetFullPath(root), sub)))
                throw new IOException($"{Path.Combine(Path.GetFullPath(root), sub)} already exists: give the demo an empty directory");
    }

    private void WriteModel(CancellationToken cancellationToken)
    {
        var s = Shape;
        var config = new JsonObject
        {
            ["architectures"] = new JsonArray("LlamaForCausalLM"),
            ["model_type"] = "llama",
            ["vocab_size"] = s.VocabSize,
            ["hidden_size"] = s.HiddenSize,
            ["intermediate_size"] = s.IntermediateSize,
            ["num_hidden_layers"] = s.Layers,
            ["num_attention_heads"] = s.Heads,
            ["num_key_value_heads"] = s.KeyValueHeads,
            ["max_position_embeddings"] = s.MaxPositions,
            ["rms_norm_eps"] = 1e-5,
            ["rope_theta"] = 10000.0,
            ["hidden_act"] = "silu",
            ["tie_word_embeddings"] = false,
            ["torch_dtype"] = "float32",
            ["bos_token_id"] = EndOfText,
            ["eos_token_id"] = EndOfText,
        };
        File.WriteAllText(Path.Combine(ModelDirectory, "config.json"), PythonJson.Serialize(config) + "\n");
        WriteTokenizer();

        var random = new DemoRandom(0x5EED_0001UL);
        var tensors = new List<SafetensorsEntry>();
        void Add(string name, float[] values, params long[] shape)
        {
            var bytes = new byte[values.Length * sizeof(float)];
            Buffer.BlockCopy(values, 0, bytes, 0, bytes.Length);
            tensors.Add(SafetensorsEntry.FromBytes(name, DType.F32, shape, bytes));
            ModelBytes += bytes.Length;
        }
        // Uniform(-a, a) with a = sqrt(3 / fan_in): unit-variance activations, so logits stay O(1).
        float Init(int fanIn) => MathF.Sqrt(3f / fanIn);
        foreach (var (name, shape) in LlamaCheckpointLayout.Tensors(s.HiddenSize, s.IntermediateSize, s.Layers, s.KeyValueSize, s.VocabSize))
        {
            int count = (int)shape.Aggregate(1L, (x, y) => x * y);
            float[] values = shape.Length == 1 ? random.Fill(count, 0.1f, 1f)             // norms: 1 + noise
                : name == LlamaCheckpointLayout.EmbeddingName ? random.Fill(count, 1f)
                : random.Fill(count, Init((int)shape[1]));
            Add(name, values, shape);
        }
        SafetensorsWriter.Write(Path.Combine(ModelDirectory, "model.safetensors"), tensors,
            new Dictionary<string, string> { ["format"] = "pt" }, cancellationToken: cancellationToken);
    }

    /// <summary>Id of <c>&lt;|endoftext|&gt;</c> in the demo tokenizer (BOS and EOS).</summary>
    public const int EndOfText = 256;

    // A byte-level BPE with no merges (GPT-2's byte-to-unicode alphabet, token id = byte value), so
    // that text prompts work on the demo model: every text encodes, one token per byte. Ids above
    // <|endoftext|> are placeholders the random model may still generate.
    private void WriteTokenizer()
    {
        var vocab = new JsonObject();
        string[] alphabet = ByteLevelAlphabet();
        for (int b = 0; b < 256; b++)
            vocab[alphabet[b]] = b;
        vocab["<|endoftext|>"] = EndOfText;
        for (int id = EndOfText + 1; id < Shape.VocabSize; id++)
            vocab[$"<|unused{id}|>"] = id;
        File.WriteAllText(Path.Combine(ModelDirectory, "vocab.json"), vocab.ToJsonString() + "\n");
        File.WriteAllText(Path.Combine(ModelDirectory, "merges.txt"), "#version: 0.2\n");
        var tokenizerConfig = new JsonObject
        {
            ["add_bos_token"] = false,
            ["bos_token"] = "<|endoftext|>",
            ["eos_token"] = "<|endoftext|>",
            ["model_max_length"] = Shape.MaxPositions,
        };
        File.WriteAllText(Path.Combine(ModelDirectory, "tokenizer_config.json"), PythonJson.Serialize(tokenizerConfig) + "\n");
    }

    // GPT-2's bytes_to_unicode: printable bytes stand for themselves, the rest map to U+0100 upwards.
    private static string[] ByteLevelAlphabet()
    {
        var map = new string[256];
        int next = 256;
        for (int b = 0; b < 256; b++)
        {
            bool printable = b is >= '!' and <= '~' or >= 0xA1 and <= 0xAC or >= 0xAE and <= 0xFF;
            map[b] = ((char)(printable ? b : next++)).ToString();
        }
        return map;
    }

    private void WriteAdapter(DemoAdapterSpec spec, CancellationToken cancellationToken)
    {
        var s = Shape;
        var shared = new DemoRandom(0x5EED_A000UL);          // one LoRA initialisation of A for every adapter
        var task = new DemoRandom(Hash(spec.Task));           // a direction shared by the task's adapters
        var own = new DemoRandom(0x5EED_B000UL + spec.Seed);  // this adapter's own part
        AdapterConfig config;
        var lora = new List<LoraModule>();
        var ia3 = new List<Ia3Module>();
        for (int l = 0; l < s.Layers; l++)
        {
            if (spec.IsIa3)
            {
                foreach (string target in Ia3Targets)
                {
                    bool feedForward = target == "down_proj";
                    int length = feedForward ? s.IntermediateSize : s.KeyValueSize;
                    float[] l3 = Sum(task.Fill(length, 0.3f, 1f), own.Fill(length, 0.1f));
                    ia3.Add(new Ia3Module(ModulePath(l, target), feedForward ? Tensor2(l3, 1, length) : Tensor2(l3, length, 1), feedForward));
                }
            }
            else
            {
                foreach (string target in LoraTargets)
                {
                    int outFeatures = target == "q_proj" ? s.HiddenSize : s.KeyValueSize;
                    float a = MathF.Sqrt(3f / s.HiddenSize);
                    float[] aValues = Sum(shared.Fill(LoraRank * s.HiddenSize, a), own.Fill(LoraRank * s.HiddenSize, 0.25f * a));
                    float[] bValues = Sum(task.Fill(outFeatures * LoraRank, 0.08f), own.Fill(outFeatures * LoraRank, 0.04f));
                    lora.Add(new LoraModule(ModulePath(l, target), Tensor2(aValues, LoraRank, s.HiddenSize),
                        Tensor2(bValues, outFeatures, LoraRank), LoraAlpha));
                }
            }
        }
        config = spec.IsIa3
            ? AdapterConfig.CreateIa3(ModuleSelector.FromNames(Ia3Targets), ModuleSelector.FromNames(["down_proj"]), baseModelNameOrPath: "peftnative-demo-llama")
            : AdapterConfig.CreateLora(LoraRank, LoraAlpha, ModuleSelector.FromNames(LoraTargets), baseModelNameOrPath: "peftnative-demo-llama");
        using var adapter = PeftAdapter.Create(config, lora, ia3);
        adapter.Save(AdapterDirectory(spec.Name), cancellationToken: cancellationToken);
    }

    private static string ModulePath(int layer, string target) =>
        target is "q_proj" or "k_proj" or "v_proj" or "o_proj" ? $"model.layers.{layer}.self_attn.{target}" : $"model.layers.{layer}.mlp.{target}";

    private static float[] Sum(float[] x, float[] y)
    {
        for (int i = 0; i < x.Length; i++)
            x[i] += y[i];
        return x;
    }

    private static Tensor Tensor2(float[] values, int rows, int cols) => Fill(Tensor.Allocate(DType.F32, rows, cols), values);

    private static Tensor Fill(Tensor tensor, float[] values)
    {
        values.CopyTo(tensor.AsSpan<float>());
        return tensor;
    }

    private static ulong Hash(string text)
    {
        ulong h = 0xCBF29CE484222325UL; // FNV-1a: a stable seed per task name
        foreach (char c in text)
            h = (h ^ c) * 0x100000001B3UL;
        return h;
    }
}
