using System.Text.Json.Nodes;
using PeftNative.Adapters;
using PeftNative.Composition;
using PeftNative.Merging;
using PeftNative.SafeTensors;

namespace PeftNative.Tests.Merging;

/// <summary>
/// ModelMerger on random models against a float64 reference: every touched tensor equals base +
/// update within the output dtype's tolerance (LoRA with and without fan_in_fan_out, compositions,
/// (IA)^3 with biases, modules_to_save), every untouched tensor is byte-identical, the side files
/// are copied, the inputs are unchanged and no temporary directory is left.
/// </summary>
[TestFixture]
public class ModelMergerTests
{
    private string _root = "";

    [SetUp]
    public void SetUp() => _root = TestModels.NewDirectory("merger");

    [TearDown]
    public void TearDown() => TestModels.Delete(_root);

    private static readonly MergeOptions Quiet = new() { Diagnostics = _ => { }, Durable = false };

    private static IEnumerable<(string Module, long Out, long In)> LlamaTargets()
    {
        for (int i = 0; i < 2; i++)
        {
            yield return ($"model.layers.{i}.self_attn.q_proj", TestModels.Hidden, TestModels.Hidden);
            yield return ($"model.layers.{i}.self_attn.v_proj", TestModels.KeyValue, TestModels.Hidden);
            yield return ($"model.layers.{i}.mlp.down_proj", TestModels.Hidden, TestModels.Intermediate);
        }
    }

    private static IEnumerable<(string Module, long Out, long In)> Gpt2Targets()
    {
        const int n = TestModels.Hidden;
        for (int i = 0; i < 2; i++)
        {
            yield return ($"transformer.h.{i}.attn.c_attn", 3 * n, n);
            yield return ($"transformer.h.{i}.attn.c_proj", n, n);
            yield return ($"transformer.h.{i}.mlp.c_fc", 4 * n, n);
        }
    }

    [TestCase(DType.F32, DType.F32)]
    [TestCase(DType.BF16, DType.BF16)]
    [TestCase(DType.F16, DType.F16)]
    [TestCase(DType.BF16, DType.F32)]
    public void Lora_Llama_MatchesFloat64Reference(DType dtype, DType factorType)
    {
        var rng = RandomTensors.For($"lora-llama-{dtype}-{factorType}");
        string model = TestModels.Write(Path.Combine(_root, "base"), "llama", TestModels.LlamaShapes(), dtype, rng, withTokenizer: true);
        using var adapter = TestModels.Lora(rng, LlamaTargets(), rank: 3, alpha: 5, factorType);
        var before = TestModels.Hashes(model);
        string output = Path.Combine(_root, "merged");

        var result = ModelMerger.Merge(model, adapter, output, Quiet);

        Assert.That(result.TensorsTouched, Is.EqualTo(6));
        Assert.That(result.TensorsCopied, Is.EqualTo(TestModels.LlamaShapes().Count() - 6));
        AssertLoraMerged(model, output, adapter.LoraModules.Values.Select(m => (m, 1.0)), transposed: false);
        AssertCommon(model, output, before, result);
        Assert.That(File.ReadAllBytes(Path.Combine(output, "tokenizer.json")), Is.EqualTo(File.ReadAllBytes(Path.Combine(model, "tokenizer.json"))));
    }

    [TestCase(DType.F32, 1503, 301)]
    [TestCase(DType.BF16, 2201, 517)]
    public void Lora_OnATensorOfSeveralRowBlocks_MatchesFloat64Reference(DType dtype, int rows, int cols)
    {
        // larger than TensorStreamer.RowBlockBytes, with a short last block
        Assert.That(dtype.ByteLengthOf((long)rows * cols), Is.GreaterThan(TensorStreamer.RowBlockBytes));
        var rng = RandomTensors.For($"row-blocks-{dtype}");
        string model = TestModels.Write(Path.Combine(_root, "base"), "llama",
            [("model.layers.0.self_attn.q_proj.weight", [rows, cols]), ("model.norm.weight", [cols])], dtype, rng);
        using var adapter = TestModels.Lora(rng, [("model.layers.0.self_attn.q_proj", rows, cols)], rank: 3, alpha: 7, DType.F32);
        string output = Path.Combine(_root, "merged");

        ModelMerger.Merge(model, adapter, output, Quiet);

        AssertLoraMerged(model, output, adapter.LoraModules.Values.Select(m => (m, 1.0)), transposed: false);
    }

    [TestCase(DType.F32)]
    [TestCase(DType.BF16)]
    [TestCase(DType.F16)]
    public void Lora_Gpt2FanInFanOut_MatchesFloat64Reference(DType dtype)
    {
        var rng = RandomTensors.For($"lora-gpt2-{dtype}");
        string model = TestModels.Write(Path.Combine(_root, "base"), "gpt2", TestModels.Gpt2Shapes(), dtype, rng);
        using var adapter = TestModels.Lora(rng, Gpt2Targets(), rank: 4, alpha: 8, DType.F32, fanInFanOut: true);
        var before = TestModels.Hashes(model);
        string output = Path.Combine(_root, "merged");

        var result = ModelMerger.Merge(model, adapter, output, Quiet);

        AssertLoraMerged(model, output, adapter.LoraModules.Values.Select(m => (m, 1.0)), transposed: true);
        AssertCommon(model, output, before, result);
    }

    [Test]
    public void ComposedLoras_MergeAsTheExactSumOfTheirUpdates()
    {
        var rng = RandomTensors.For("compose-exact");
        string model = TestModels.Write(Path.Combine(_root, "base"), "llama", TestModels.LlamaShapes(), DType.F32, rng);
        using var a = TestModels.Lora(rng, LlamaTargets(), rank: 2, alpha: 4, DType.F32);
        using var b = TestModels.Lora(rng, LlamaTargets(), rank: 5, alpha: 3, DType.BF16);
        using var composed = AdapterComposer.Compose(ModuleExpression.Parse("0.7*a - 0.4*b"), new Dictionary<string, PeftAdapter> { ["a"] = a, ["b"] = b },
            new CompositionOptions { Method = CompositionMethod.Exact });
        string output = Path.Combine(_root, "merged");

        var result = ModelMerger.Merge(model, composed.Adapter, output, Quiet);

        var terms = a.LoraModules.Values.Select(m => (m, 0.7)).Concat(b.LoraModules.Values.Select(m => (m, -0.4)));
        AssertLoraMerged(model, output, terms, transposed: false);
        Assert.That(result.TensorsTouched, Is.EqualTo(6));
    }

    [TestCase(DType.F32)]
    [TestCase(DType.BF16)]
    public void Ia3_Llama_ScalesOutputRowsAndFeedForwardColumns(DType dtype)
    {
        var rng = RandomTensors.For($"ia3-llama-{dtype}");
        string model = TestModels.Write(Path.Combine(_root, "base"), "llama", TestModels.LlamaShapes(), dtype, rng);
        using var adapter = TestModels.Ia3(rng, [
            ("model.layers.0.self_attn.k_proj", TestModels.KeyValue, false),
            ("model.layers.1.self_attn.v_proj", TestModels.KeyValue, false),
            ("model.layers.0.mlp.down_proj", TestModels.Intermediate, true),
        ], fanInFanOut: false, dtype);
        var before = TestModels.Hashes(model);
        string output = Path.Combine(_root, "merged");

        var result = ModelMerger.Merge(model, adapter, output, Quiet);

        foreach (var m in adapter.Ia3Modules.Values)
        {
            string name = m.ModulePath + ".weight";
            var (w, _, shape) = TestModels.Read(model, name);
            var expected = MergeReference.Scale(w, shape[1], RandomTensors.ToDoubles(m.Vector), rows: !m.IsFeedForward);
            AssertTensor(output, name, expected, null, 1);
        }
        AssertCommon(model, output, before, result);
    }

    [Test]
    public void Ia3_Gpt2Conv1D_SwapsAxes_AndScalesTheBiasOfOutputModulesOnly()
    {
        var rng = RandomTensors.For("ia3-gpt2");
        const int n = TestModels.Hidden;
        string model = TestModels.Write(Path.Combine(_root, "base"), "gpt2", TestModels.Gpt2Shapes(), DType.F32, rng);
        using var adapter = TestModels.Ia3(rng, [
            ("transformer.h.0.attn.c_attn", 3 * n, false),
            ("transformer.h.1.mlp.c_proj", 4 * n, true),
        ], fanInFanOut: true);
        var before = TestModels.Hashes(model);
        string output = Path.Combine(_root, "merged");

        var result = ModelMerger.Merge(model, adapter, output, Quiet);

        var attn = adapter.Ia3Modules["transformer.h.0.attn.c_attn"];
        double[] l = RandomTensors.ToDoubles(attn.Vector);
        var (w, _, shape) = TestModels.Read(model, "transformer.h.0.attn.c_attn.weight");
        AssertTensor(output, "transformer.h.0.attn.c_attn.weight", MergeReference.Scale(w, shape[1], l, rows: false), null, 1);
        var (bias, _, _) = TestModels.Read(model, "transformer.h.0.attn.c_attn.bias");
        AssertTensor(output, "transformer.h.0.attn.c_attn.bias", MergeReference.Scale(bias, bias.Length, l, rows: false), null, 1);

        var ff = adapter.Ia3Modules["transformer.h.1.mlp.c_proj"];
        var (w2, _, shape2) = TestModels.Read(model, "transformer.h.1.mlp.c_proj.weight");
        AssertTensor(output, "transformer.h.1.mlp.c_proj.weight", MergeReference.Scale(w2, shape2[1], RandomTensors.ToDoubles(ff.Vector), rows: true), null, 1);
        Assert.That(TestModels.Bytes(output, "transformer.h.1.mlp.c_proj.bias"), Is.EqualTo(TestModels.Bytes(model, "transformer.h.1.mlp.c_proj.bias")),
            "a feed-forward module leaves the bias alone");
        Assert.That(result.TensorsTouched, Is.EqualTo(3));
        AssertCommon(model, output, before, result);
    }

    [Test]
    public void ModulesToSave_ReplaceTheirBaseTensor_ConvertedToItsDType()
    {
        var rng = RandomTensors.For("modules-to-save");
        string model = TestModels.Write(Path.Combine(_root, "base"), "llama", TestModels.LlamaShapes(), DType.BF16, rng);
        var head = RandomTensors.Create(rng, DType.F32, [TestModels.Vocab, TestModels.Hidden]);
        double[] headValues = RandomTensors.ToDoubles(head);
        var extra = new AdapterExtraTensor("base_model.model.lm_head.modules_to_save.default.weight", "lm_head.weight", AdapterExtraTensorKind.ModulesToSave, head);
        using var adapter = TestModels.Lora(rng, LlamaTargets().Take(1), rank: 2, alpha: 2, DType.F32, extras: [extra]);
        string output = Path.Combine(_root, "merged");

        var result = ModelMerger.Merge(model, adapter, output, Quiet);

        Assert.That(result.TouchedTensorNames, Is.EquivalentTo(new[] { "lm_head.weight", "model.layers.0.self_attn.q_proj.weight" }));
        AssertTensor(output, "lm_head.weight", headValues, null, 1);
        Assert.That(TestModels.Read(output, "lm_head.weight").DType, Is.EqualTo(DType.BF16));
    }

    [TestCase(DType.F32, 2e-6)]
    [TestCase(DType.BF16, 3e-2)]
    [TestCase(DType.F16, 4e-3)]
    public void MergeThenUnmerge_ReturnsTheBase(DType dtype, double relative)
    {
        var rng = RandomTensors.For($"roundtrip-{dtype}");
        string model = TestModels.Write(Path.Combine(_root, "base"), "gpt2", TestModels.Gpt2Shapes(), dtype, rng);
        using var lora = TestModels.Lora(rng, Gpt2Targets(), rank: 4, alpha: 8, DType.F32, fanInFanOut: true);
        using var ia3 = TestModels.Ia3(rng, [("transformer.h.0.attn.c_attn", 3 * TestModels.Hidden, false), ("transformer.h.0.mlp.c_proj", 4 * TestModels.Hidden, true)], true);
        foreach (var (adapter, label) in new[] { (lora, "lora"), (ia3, "ia3") })
        {
            string merged = Path.Combine(_root, label + "-merged"), unmerged = Path.Combine(_root, label + "-unmerged");
            ModelMerger.Merge(model, adapter, merged, Quiet);
            var result = ModelMerger.Unmerge(merged, adapter, unmerged, Quiet);
            var report = RoundTripReport.Compare(unmerged, model, result.TouchedTensorNames);
            Assert.That(report.Problems, Is.Empty, label);
            Assert.That(report.Touched, Has.Count.EqualTo(result.TensorsTouched), label);
            Assert.That(report.MaxRelativeError, Is.LessThanOrEqualTo(relative), label);
            Assert.That(report.MaxAbsError, Is.GreaterThan(0).Or.EqualTo(0), label);
        }
    }

    [Test]
    public void RoundTripReport_SeesADifferenceInAnUntouchedTensor()
    {
        var rng = RandomTensors.For("report-detects");
        string model = TestModels.Write(Path.Combine(_root, "base"), "llama", TestModels.LlamaShapes(), DType.F32, rng);
        string other = TestModels.Write(Path.Combine(_root, "other"), "llama", TestModels.LlamaShapes(), DType.F32, RandomTensors.For("another"));
        var report = RoundTripReport.Compare(other, model, ["model.layers.0.self_attn.q_proj.weight"]);
        Assert.That(report.Problems, Has.Count.EqualTo(TestModels.LlamaShapes().Count() - 1));
        Assert.That(report.Touched.Single().MaxRelativeError, Is.GreaterThan(0.1));
    }

    [Test]
    public void OutputDType_ConvertsEveryFloatTensor_AndUpdatesTorchDType()
    {
        var rng = RandomTensors.For("dtype-change");
        string model = TestModels.Write(Path.Combine(_root, "base"), "llama", TestModels.LlamaShapes(), DType.BF16, rng);
        using var adapter = TestModels.Lora(rng, LlamaTargets(), rank: 3, alpha: 6, DType.BF16);
        string output = Path.Combine(_root, "merged");

        ModelMerger.Merge(model, adapter, output, Quiet with { OutputDType = DType.F32 });

        // f32 accumulation of a bf16 base: the reference is met to f32 accuracy, not bf16's
        AssertLoraMerged(model, output, adapter.LoraModules.Values.Select(m => (m, 1.0)), transposed: false, outputType: DType.F32);
        var (values, dtype, _) = TestModels.Read(output, "model.norm.weight");
        Assert.That(dtype, Is.EqualTo(DType.F32));
        Assert.That(values, Is.EqualTo(TestModels.Read(model, "model.norm.weight").Values), "bf16 -> f32 is exact");
        var config = JsonNode.Parse(File.ReadAllText(Path.Combine(output, "config.json")))!;
        Assert.That((string?)config["torch_dtype"], Is.EqualTo("float32"));
        Assert.That((string?)config["model_type"], Is.EqualTo("llama"));
    }

    [Test]
    public void ShardedInput_IsWrittenWithTheSameShardsAndIndex()
    {
        var rng = RandomTensors.For("sharded-in");
        string model = TestModels.Write(Path.Combine(_root, "base"), "llama", TestModels.LlamaShapes(), DType.F32, rng, maxShardBytes: 6000);
        Assert.That(Directory.GetFiles(model, "model-*-of-*.safetensors"), Has.Length.GreaterThan(2));
        using var adapter = TestModels.Lora(rng, LlamaTargets(), rank: 2, alpha: 2, DType.F32);
        var before = TestModels.Hashes(model);
        string output = Path.Combine(_root, "merged");

        var result = ModelMerger.Merge(model, adapter, output, Quiet);

        string index = "model.safetensors.index.json";
        var inMap = JsonNode.Parse(File.ReadAllText(Path.Combine(model, index)))!["weight_map"]!.AsObject();
        var outMap = JsonNode.Parse(File.ReadAllText(Path.Combine(output, index)))!["weight_map"]!.AsObject();
        Assert.That(outMap.Select(kv => (kv.Key, (string?)kv.Value)), Is.EquivalentTo(inMap.Select(kv => (kv.Key, (string?)kv.Value))));
        Assert.That(Directory.GetFiles(output, "*.safetensors").Select(Path.GetFileName), Is.EquivalentTo(Directory.GetFiles(model, "*.safetensors").Select(Path.GetFileName)));
        AssertLoraMerged(model, output, adapter.LoraModules.Values.Select(m => (m, 1.0)), transposed: false);
        AssertCommon(model, output, before, result);
    }

    [Test]
    public void MaxShardBytes_CutsShardsWithAnIndex_HoldingTheSameTensors()
    {
        var rng = RandomTensors.For("max-shard");
        string model = TestModels.Write(Path.Combine(_root, "base"), "llama", TestModels.LlamaShapes(), DType.F32, rng);
        using var adapter = TestModels.Lora(rng, LlamaTargets(), rank: 2, alpha: 2, DType.F32);
        string single = Path.Combine(_root, "single"), sharded = Path.Combine(_root, "sharded");

        ModelMerger.Merge(model, adapter, single, Quiet);
        ModelMerger.Merge(model, adapter, sharded, Quiet with { MaxShardBytes = 5000 });

        var shards = Directory.GetFiles(sharded, "model-*-of-*.safetensors");
        Assert.That(shards, Has.Length.GreaterThan(2));
        Assert.That(File.Exists(Path.Combine(sharded, "model.safetensors.index.json")), Is.True);
        Assert.That(shards.Select(f => new FileInfo(f).Length), Has.All.LessThan(5000 + 4096), "each shard near the limit (a larger tensor gets its own)");
        using var a = SafetensorsCollection.Open(single);
        using var b = SafetensorsCollection.Open(sharded);
        foreach (var t in a.Tensors)
            Assert.That(RandomTensors.Bytes(b.GetTensor(t.Name)), Is.EqualTo(RandomTensors.Bytes(a.GetTensor(t.Name))), t.Name);
        Assert.That(b.Tensors, Has.Count.EqualTo(a.Tensors.Count));
    }

    [Test]
    public void AnEarlierMergeOutput_IsReplaced()
    {
        var rng = RandomTensors.For("replace");
        string model = TestModels.Write(Path.Combine(_root, "base"), "llama", TestModels.LlamaShapes(), DType.F32, rng);
        using var first = TestModels.Lora(rng, LlamaTargets(), rank: 2, alpha: 2, DType.F32);
        using var second = TestModels.Lora(rng, LlamaTargets(), rank: 3, alpha: 1, DType.F32);
        string output = Path.Combine(_root, "merged");
        ModelMerger.Merge(model, first, output, Quiet);

        ModelMerger.Merge(model, second, output, Quiet);

        AssertLoraMerged(model, output, second.LoraModules.Values.Select(m => (m, 1.0)), transposed: false);
        Assert.That(TestModels.Temporaries(output), Is.Empty);
    }

    /// <summary>Every LoRA-touched tensor against the float64 reference, in the output's dtype.</summary>
    private static void AssertLoraMerged(string model, string output, IEnumerable<(LoraModule Module, double Coefficient)> terms, bool transposed, DType? outputType = null)
    {
        foreach (var group in terms.GroupBy(t => t.Module.ModulePath))
        {
            string name = group.Key + ".weight";
            var (w, dtype, shape) = TestModels.Read(model, name);
            var (expected, magnitude) = MergeReference.Lora(w, shape[0], shape[1], group, transposed);
            int rank = group.Sum(t => t.Module.Rank);
            AssertTensor(output, name, expected, magnitude, rank + 1);
            Assert.That(TestModels.Read(output, name).DType, Is.EqualTo(outputType ?? dtype));
        }
    }

    private static void AssertTensor(string output, string name, double[] expected, double[]? magnitude, int terms)
    {
        using var weights = SafetensorsCollection.Open(output);
        using var got = weights.GetTensor(name);
        Tolerances.AssertClose(name, got, expected, magnitude, terms, got.Columns);
    }

    /// <summary>Untouched tensors byte-identical, side files copied, inputs unchanged, no temporaries, provenance written.</summary>
    private static void AssertCommon(string model, string output, Dictionary<string, string> before, MergeResult result)
    {
        using var input = SafetensorsCollection.Open(model);
        using var merged = SafetensorsCollection.Open(output);
        Assert.That(merged.Tensors.Select(t => t.Name), Is.EquivalentTo(input.Tensors.Select(t => t.Name)));
        foreach (var t in input.Tensors.Where(t => !result.TouchedTensorNames.Contains(t.Name)))
            Assert.That(RandomTensors.Bytes(merged.GetTensor(t.Name)), Is.EqualTo(RandomTensors.Bytes(input.GetTensor(t.Name))), $"{t.Name} untouched: byte-identical");
        Assert.That(File.ReadAllBytes(Path.Combine(output, "config.json")), Is.EqualTo(File.ReadAllBytes(Path.Combine(model, "config.json"))));
        Assert.That(File.ReadAllBytes(Path.Combine(output, "generation_config.json")), Is.EqualTo(File.ReadAllBytes(Path.Combine(model, "generation_config.json"))));
        Assert.That(File.Exists(Path.Combine(output, "peftnative_merge.json")), Is.True);
        Assert.That(TestModels.Hashes(model), Is.EqualTo(before), "inputs unchanged");
        Assert.That(TestModels.Temporaries(output), Is.Empty);
        Assert.That(result.BytesRead, Is.EqualTo(input.Tensors.Sum(t => t.ByteLength)));
        Assert.That(result.BytesWritten, Is.EqualTo(Directory.GetFiles(output).Sum(f => new FileInfo(f).Length)));
        Assert.That(result.PeakMemoryBytes, Is.GreaterThan(0));
    }
}
