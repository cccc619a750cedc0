using System.Text.Json.Nodes;
using PeftNative.Adapters;
using PeftNative.Models.Transformer;
using PeftNative.SafeTensors;

namespace PeftNative.Tests.Models.Transformer;

/// <summary>Bad models, adapters and calls: each a clear exception naming the file and tensor (or what is wrong).</summary>
[TestFixture]
public class ModelErrorTests
{
    private static readonly RandomDecoderSpec Llama = new("llama", Hidden: 16, Layers: 1, Heads: 2, KvHeads: 1, Inner: 24, Vocab: 19, DType.F32);
    private string _dir = "";

    [SetUp]
    public void SetUp() => _dir = Directory.CreateTempSubdirectory("peftnative-badmodel-").FullName;

    [TearDown]
    public void TearDown() => Directory.Delete(_dir, recursive: true);

    [Test]
    public void UnknownModelType()
    {
        RandomDecoderCheckpoint.Write(_dir, Llama, RandomTensors.For("unknown"));
        EditConfig(c => c["model_type"] = "bert");
        var e = Assert.Throws<AdapterFormatException>(() => TransformerModel.Load(_dir))!;
        Assert.That(e.Message, Does.Contain("config.json").And.Contain("'bert'").And.Contain("gpt2, llama, mistral, qwen2"));
    }

    [Test]
    public void RopeScalingIsRefused()
    {
        RandomDecoderCheckpoint.Write(_dir, Llama, RandomTensors.For("rope"));
        EditConfig(c => c["rope_scaling"] = new JsonObject { ["rope_type"] = "linear", ["factor"] = 2.0 });
        var e = Assert.Throws<AdapterFormatException>(() => TransformerModel.Load(_dir))!;
        Assert.That(e.Message, Does.Contain("config.json").And.Contain("rope_scaling").And.Contain("not supported"));
    }

    [Test]
    public void MissingTensor()
    {
        RandomDecoderCheckpoint.Write(_dir, Llama, RandomTensors.For("missing"));
        RewriteWeights(name => name == "model.layers.0.self_attn.k_proj.weight" ? null : name, (_, t) => t);
        var e = Assert.Throws<AdapterFormatException>(() => TransformerModel.Load(_dir))!;
        Assert.That(e.Message, Does.Contain("model.safetensors").And.Contain("model.layers.0.self_attn.k_proj.weight").And.Contain("missing"));
    }

    [Test]
    public void WrongShape()
    {
        RandomDecoderCheckpoint.Write(_dir, Llama, RandomTensors.For("shape"));
        EditConfig(c => c["intermediate_size"] = 25);
        var e = Assert.Throws<AdapterFormatException>(() => TransformerModel.Load(_dir))!;
        Assert.That(e.Message, Does.Contain("model.safetensors").And.Contain("model.layers.0.mlp.gate_proj.weight").And.Contain("[24, 16]").And.Contain("[25, 16]"));
    }

    [Test]
    public void IntegerWeightsAreRefused()
    {
        RandomDecoderCheckpoint.Write(_dir, Llama, RandomTensors.For("dtype"));
        RewriteWeights(n => n, (name, t) =>
        {
            if (name != "model.norm.weight")
                return t;
            var i = Tensor.Allocate(DType.I32, t.Shape.ToArray());
            i.AsSpan<int>().Fill(1);
            t.Dispose();
            return i;
        });
        var e = Assert.Throws<AdapterFormatException>(() => TransformerModel.Load(_dir))!;
        Assert.That(e.Message, Does.Contain("model.norm.weight").And.Contain("I32"));
    }

    [Test]
    public void TokenOutOfRangeAndCacheOverflow()
    {
        RandomDecoderCheckpoint.Write(_dir, Llama, RandomTensors.For("calls"));
        using var model = TransformerModel.Load(_dir);
        using var cache = model.CreateCache(4);
        var logits = new float[2 * model.VocabularySize];
        var e = Assert.Throws<ArgumentException>(() => model.Forward([3, 19], cache, logits))!;
        Assert.That(e.Message, Does.Contain("token 19 at index 1").And.Contain("0..18"));
        Assert.Throws<ArgumentException>(() => model.Forward([-1, 2], cache, logits));
        Assert.That(cache.Length, Is.Zero, "a refused call leaves the cache as it was");

        model.Forward([1, 2], cache, logits);
        model.Forward([3, 4], cache, logits);
        var full = Assert.Throws<ArgumentException>(() => model.Forward([5], cache, logits.AsSpan(0, model.VocabularySize)))!;
        Assert.That(full.Message, Does.Contain("holds 4 of 4 positions"));
        Assert.Throws<ArgumentOutOfRangeException>(() => model.CreateCache(model.MaxSequenceLength + 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => cache.Truncate(5));
        Assert.Throws<ArgumentException>(() => model.Forward([1], cache, new float[3]), "wrong logits length");

        using var other = TransformerModel.Load(_dir);
        using var foreign = other.CreateCache(4);
        Assert.That(Assert.Throws<ArgumentException>(() => model.Forward([1], foreign, new float[model.VocabularySize]))!.Message, Does.Contain("another model"));
    }

    [Test]
    public void AdapterForAnotherModel()
    {
        RandomDecoderCheckpoint.Write(_dir, Llama, RandomTensors.For("adapter"));
        using var gpt2Lora = PeftAdapter.Load(Path.Combine(Fixtures.ReferenceModel("gpt2-tiny"), "adapters", "lora_a"));
        var e = Assert.Throws<AdapterFormatException>(() => TransformerModel.Load(_dir, new TransformerLoadOptions { RuntimeAdapters = [new(gpt2Lora)] }))!;
        Assert.That(e.Message, Does.Contain("adapter_model.safetensors").And.Contain("transformer.h.0.attn.c_attn"));

        string llamaRoot = Fixtures.ReferenceModel("llama-tiny");
        using var wrongShape = PeftAdapter.Load(Path.Combine(llamaRoot, "adapters", "lora_qv"));
        var s = Assert.Throws<AdapterFormatException>(() => TransformerModel.Load(_dir, new TransformerLoadOptions { MergedAdapters = [new(wrongShape)] }))!;
        Assert.That(s.Message, Does.Contain("model.layers.0.self_attn.q_proj").And.Contain("[48, 48]"));
    }

    private void EditConfig(Action<JsonObject> edit)
    {
        string path = Path.Combine(_dir, "config.json");
        var c = JsonNode.Parse(File.ReadAllText(path))!.AsObject();
        edit(c);
        File.WriteAllText(path, c.ToJsonString());
    }

    private void RewriteWeights(Func<string, string?> rename, Func<string, Tensor, Tensor> replace)
    {
        string path = Path.Combine(_dir, "model.safetensors");
        var copies = new List<(string, Tensor)>();
        using (var file = SafetensorsFile.Open(path))
        {
            foreach (var info in file.Tensors)
            {
                if (rename(info.Name) is not { } name)
                    continue;
                var view = file.GetTensor(info.Name);
                var copy = Tensor.Allocate(view.DType, view.Shape.ToArray());
                view.AsBytes().CopyTo(copy.AsBytes());
                copies.Add((name, replace(name, copy)));
            }
        }
        try
        {
            SafetensorsWriter.Write(path, copies.Select(c => SafetensorsEntry.FromTensor(c.Item1, c.Item2)));
        }
        finally
        {
            foreach (var (_, t) in copies)
                t.Dispose();
        }
    }
}
