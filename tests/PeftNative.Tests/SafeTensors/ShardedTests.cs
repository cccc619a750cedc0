using System.Text.Json;
using PeftNative.SafeTensors;

namespace PeftNative.Tests.SafeTensors;

/// <summary>
/// Sharded checkpoints (index + shards) and how a directory is resolved: built in a temp folder
/// by the in-test builder, opened through the index and through the directory.
/// </summary>
[TestFixture]
public class ShardedTests
{
    private TempDir _temp = null!;

    [SetUp]
    public void CreateTemp() => _temp = new TempDir();

    [TearDown]
    public void DeleteTemp() => _temp.Dispose();

    private static string ShardName(int i) => $"model-{i:D5}-of-00003.safetensors";

    /// <summary>Three shards with two, three and one tensors, and the index naming them.</summary>
    private Dictionary<string, (string Shard, byte[] Data)> WriteCheckpoint(string directory, Action<Dictionary<string, string>>? editMap = null)
    {
        Directory.CreateDirectory(directory);
        var rng = RandomTensors.For("sharded-" + directory);
        string[][] names = [["embed.weight", "layers.0.attn.weight"], ["layers.0.mlp.weight", "layers.1.attn.weight", "layers.1.norm.weight"], ["lm_head.weight"]];
        var expected = new Dictionary<string, (string, byte[])>();
        var weightMap = new Dictionary<string, string>();
        for (int s = 0; s < names.Length; s++)
        {
            var b = new TestSafetensorsBuilder(rng).Meta("format", "pt").Meta("shard", s.ToString(System.Globalization.CultureInfo.InvariantCulture));
            foreach (string n in names[s])
                b.Add(n, s == 1 ? DType.BF16 : DType.F32, [3, s + 2]);
            string shard = ShardName(s + 1);
            b.WriteTo(Path.Combine(directory, shard));
            foreach (string n in names[s])
            {
                expected[n] = (Path.Combine(directory, shard), b.DataOf(n));
                weightMap[n] = shard;
            }
        }
        editMap?.Invoke(weightMap);
        var index = new Dictionary<string, object> { ["metadata"] = new Dictionary<string, long> { ["total_size"] = 1234 }, ["weight_map"] = weightMap };
        File.WriteAllText(Path.Combine(directory, "model.safetensors.index.json"), JsonSerializer.Serialize(index));
        return expected;
    }

    [Test]
    public void ThroughTheIndex_AndThroughTheDirectory_OneCollection()
    {
        string dir = _temp.File("ckpt");
        var expected = WriteCheckpoint(dir);
        foreach (string path in new[] { Path.Combine(dir, "model.safetensors.index.json"), dir })
        {
            using var c = SafetensorsCollection.Open(path);
            Assert.That(c.SourcePath, Is.EqualTo(Path.GetFullPath(path)));
            Assert.That(c.Files, Is.EqualTo(new[] { 1, 2, 3 }.Select(i => Path.Combine(dir, ShardName(i)))));
            Assert.That(c.Tensors.Select(t => t.Name), Is.EquivalentTo(expected.Keys));
            Assert.That(c.Tensors.Select(t => t.FilePath).Distinct(), Is.EqualTo(c.Files), "tensors in file order");
            Assert.That(c.Metadata["shard"], Is.EqualTo("0"), "the first shard's metadata");
            foreach (var (name, (shard, data)) in expected)
            {
                Assert.That(c.Contains(name), Is.True);
                Assert.That(c.GetInfo(name).FilePath, Is.EqualTo(shard), name);
                using var t = c.GetTensor(name);
                Assert.That(t.AsBytes().ToArray(), Is.EqualTo(data), name);
            }
            var e = Assert.Throws<KeyNotFoundException>(() => c.GetTensor("nope"));
            Assert.That(e!.Message, Does.Contain(c.SourcePath).And.Contain("'nope'"));
        }
    }

    [Test]
    public void Dispose_UnmapsEveryShard()
    {
        string dir = _temp.File("ckpt");
        WriteCheckpoint(dir);
        var c = SafetensorsCollection.Open(dir);
        using (c.GetTensor("lm_head.weight"))
        {
        }
        c.Dispose();
        Assert.Throws<ObjectDisposedException>(() => c.GetTensor("lm_head.weight"));
        Assert.Throws<ObjectDisposedException>(() => c.GetTensor("embed.weight"));
        Assert.DoesNotThrow(c.Dispose);
    }

    [Test]
    public void TensorMissingFromItsShard_IsRefused()
    {
        string dir = _temp.File("ckpt");
        WriteCheckpoint(dir, map => map["ghost.weight"] = ShardName(2));
        var e = Assert.Throws<SafetensorsFormatException>(() => SafetensorsCollection.Open(dir));
        Assert.That(e!.Message, Does.Contain(Path.Combine(dir, "model.safetensors.index.json")).And.Contain("tensor 'ghost.weight'").And.Contain("which does not hold it"));
        Assert.That(e.TensorName, Is.EqualTo("ghost.weight"));
    }

    [Test]
    public void TensorNotInTheWeightMap_IsRefused()
    {
        string dir = _temp.File("ckpt");
        WriteCheckpoint(dir, map => map.Remove("layers.1.norm.weight"));
        var e = Assert.Throws<SafetensorsFormatException>(() => SafetensorsCollection.Open(dir));
        Assert.That(e!.Message, Does.Contain("tensor 'layers.1.norm.weight': is in shard 'model-00002-of-00003.safetensors' but not listed in the weight_map"));
    }

    [TestCase("../model-00001-of-00003.safetensors")]
    [TestCase("/tmp/model-00001-of-00003.safetensors")]
    [TestCase("sub/model-00001-of-00003.safetensors")]
    [TestCase("..")]
    public void HostileShardNames_AreRefusedBeforeAnyFileIsOpened(string shard)
    {
        string dir = _temp.File("ckpt");
        WriteCheckpoint(dir, map => map["embed.weight"] = shard);
        // Put a valid shard where a path-following reader would look, so only the name check can refuse it.
        File.Copy(Path.Combine(dir, ShardName(1)), _temp.File(ShardName(1)));
        var e = Assert.Throws<SafetensorsFormatException>(() => SafetensorsCollection.Open(dir));
        Assert.That(e!.Message, Does.Contain($"shard file name '{shard}' must be a plain file name in the index's directory"));
    }

    [TestCase("model-00001-of-00002.safetensors", true)]
    [TestCase("adapter model ✓.safetensors", true)]
    [TestCase("..x", true)]
    [TestCase("", false)]
    [TestCase(".", false)]
    [TestCase("..", false)]
    [TestCase("../x.safetensors", false)]
    [TestCase("a/b", false)]
    [TestCase("a\\b", false)]
    [TestCase("/abs", false)]
    [TestCase("C:x.safetensors", false)]
    [TestCase("a\0b", false)]
    public void IsPlainFileName(string name, bool plain) =>
        Assert.That(SafetensorsIndex.IsPlainFileName(name), Is.EqualTo(plain), name);

    [Test]
    public void Directory_PrefersIndex_ThenModelSafetensors_ThenTheOnlyFile()
    {
        var rng = RandomTensors.For("sharded-directory");
        string dir = _temp.File("d");
        WriteCheckpoint(dir);
        new TestSafetensorsBuilder(rng).Add("single", DType.F32, [2]).WriteTo(Path.Combine(dir, "model.safetensors"));
        using (var c = SafetensorsCollection.Open(dir))
            Assert.That(c.Files, Has.Count.EqualTo(3), "model.safetensors.index.json wins");
        File.Delete(Path.Combine(dir, "model.safetensors.index.json"));
        using (var c = SafetensorsCollection.Open(dir))
            Assert.That(c.Files, Is.EqualTo(new[] { Path.Combine(dir, "model.safetensors") }), "then model.safetensors");

        string adapter = _temp.File("adapter");
        Directory.CreateDirectory(adapter);
        string only = new TestSafetensorsBuilder(rng).Add("lora_A", DType.F32, [2, 3]).WriteTo(Path.Combine(adapter, "adapter_model.safetensors"));
        File.WriteAllText(Path.Combine(adapter, "adapter_config.json"), "{}");
        using (var c = SafetensorsCollection.Open(adapter))
        {
            Assert.That(c.Files, Is.EqualTo(new[] { only }), "then the only .safetensors file");
            Assert.That(c.Tensors.Single().Name, Is.EqualTo("lora_A"));
        }
    }

    [Test]
    public void Directory_OtherIndexName_IsUsedWhenItIsTheOnlyOne()
    {
        string dir = _temp.File("d");
        WriteCheckpoint(dir);
        File.Move(Path.Combine(dir, "model.safetensors.index.json"), Path.Combine(dir, "diffusion_pytorch_model.safetensors.index.json"));
        using var c = SafetensorsCollection.Open(dir);
        Assert.That(c.Files, Has.Count.EqualTo(3));
    }

    [Test]
    public void Directory_Ambiguous_ListsTheCandidates_Empty_IsNotFound()
    {
        var rng = RandomTensors.For("sharded-ambiguous");
        string dir = _temp.File("amb");
        Directory.CreateDirectory(dir);
        var e0 = Assert.Throws<FileNotFoundException>(() => SafetensorsCollection.Open(dir));
        Assert.That(e0!.Message, Does.Contain(dir));
        new TestSafetensorsBuilder(rng).Add("x", DType.F32, [1]).WriteTo(Path.Combine(dir, "b.safetensors"));
        new TestSafetensorsBuilder(rng).Add("y", DType.F32, [1]).WriteTo(Path.Combine(dir, "a.safetensors"));
        var e = Assert.Throws<SafetensorsFormatException>(() => SafetensorsCollection.Open(dir));
        Assert.That(e!.Message, Does.Contain(dir).And.Contain("a.safetensors, b.safetensors"));
    }

    [Test]
    public void SingleFile_IsACollectionOfOne()
    {
        var b = new TestSafetensorsBuilder(RandomTensors.For("sharded-single")).Add("w", DType.F16, [4]).Meta("format", "pt");
        string path = b.WriteTo(_temp.File("one.safetensors"));
        using var c = SafetensorsCollection.Open(path);
        Assert.That(c.Files, Is.EqualTo(new[] { path }));
        Assert.That(c.Metadata["format"], Is.EqualTo("pt"));
        using var t = c.GetTensor("w");
        Assert.That(t.AsBytes().ToArray(), Is.EqualTo(b.DataOf("w")));
    }
}
