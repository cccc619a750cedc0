using System.Text.Json.Nodes;
using PeftNative.Adapters;
using PeftNative.SafeTensors;

namespace PeftNative.Tests.Adapters;

/// <summary>
/// <see cref="PeftAdapter.Save(string, bool, CancellationToken)"/>: Load → Save → Load is bit-exact for every fixture adapter (config
/// text identical to PEFT's file, same tensor names, dtypes, shapes and bytes, PEFT's metadata),
/// adapters built in memory save under PEFT's names, and publishing is all-or-nothing.
/// Needs the safetensors reader and writer.
/// </summary>
[TestFixture]
public class AdapterSaveTests
{
    private string _dir = "";

    [SetUp]
    public void SetUp() => _dir = Directory.CreateTempSubdirectory("peftnative-save-").FullName;

    [TearDown]
    public void TearDown() => Directory.Delete(_dir, recursive: true);

    public static IEnumerable<string> AdapterDirectories() => FixtureAdapterTests.AdapterDirectories();

    private void AssertNoLeftovers() =>
        Assert.That(Directory.EnumerateFileSystemEntries(_dir).Select(Path.GetFileName).Where(n => n!.StartsWith('.')), Is.Empty,
            "no temporary or backup directories are left behind");

    private static void AssertSameTensors(string expectedFile, string actualFile)
    {
        using var expected = SafetensorsFile.Open(expectedFile);
        using var actual = SafetensorsFile.Open(actualFile);
        Assert.That(actual.Tensors.Select(t => t.Name).Order(StringComparer.Ordinal), Is.EqualTo(expected.Tensors.Select(t => t.Name).Order(StringComparer.Ordinal)));
        foreach (var info in expected.Tensors)
        {
            var got = actual.GetInfo(info.Name);
            Assert.That((got.DType, got.ShapeText), Is.EqualTo((info.DType, info.ShapeText)), info.Name);
            Assert.That(actual.GetTensor(info.Name).AsBytes().SequenceEqual(expected.GetTensor(info.Name).AsBytes()), Is.True, info.Name);
        }
        Assert.That(actual.Metadata, Is.EqualTo(new Dictionary<string, string> { ["format"] = "pt" }));
    }

    [TestCaseSource(nameof(AdapterDirectories))]
    public void LoadSaveLoad_BitExact(string relative)
    {
        string source = Fixtures.Require(relative);
        string target = Path.Combine(_dir, "out");
        using (var adapter = PeftAdapter.Load(source))
            adapter.Save(target);
        Assert.That(File.ReadAllText(Path.Combine(target, AdapterFiles.Config)), Is.EqualTo(File.ReadAllText(Path.Combine(source, AdapterFiles.Config))));
        AssertSameTensors(Path.Combine(source, AdapterFiles.Safetensors), Path.Combine(target, AdapterFiles.Safetensors));
        Assert.That(Directory.EnumerateFileSystemEntries(target).Select(Path.GetFileName), Is.EquivalentTo(new[] { AdapterFiles.Config, AdapterFiles.Safetensors }));
        using var again = PeftAdapter.Load(target);
        using var original = PeftAdapter.Load(source);
        Assert.That(again.ModuleCount, Is.EqualTo(original.ModuleCount));
        AssertNoLeftovers();
    }

    [Test]
    public void Create_SavesPeftNames_AndLoadsBack()
    {
        var cfg = AdapterConfig.CreateLora(4, 8, ModuleSelector.FromNames(["q_proj", "embed_tokens"]), baseModelNameOrPath: "tiny");
        cfg.RankPattern = new Dictionary<string, int> { [@"layers\.1\.self_attn\.q_proj"] = 2 };
        var rng = new Random(5);
        Tensor T(DType d, params long[] shape)
        {
            var t = Tensor.Allocate(d, shape);
            rng.NextBytes(t.AsBytes());
            if (d == DType.F32)
            {
                var s = t.AsSpan<float>();
                for (int i = 0; i < s.Length; i++)
                    s[i] = (float)rng.NextDouble();
            }
            return t;
        }
        var modules = new[]
        {
            LoraModule.FromConfig(cfg, "model.layers.0.self_attn.q_proj", T(DType.F32, 4, 48), T(DType.F32, 48, 4)),
            LoraModule.FromConfig(cfg, "model.layers.1.self_attn.q_proj", T(DType.F32, 2, 48), T(DType.F32, 48, 2)),
            LoraModule.FromConfig(cfg, "model.embed_tokens", T(DType.F32, 4, 80), T(DType.F32, 48, 4), isEmbedding: true),
        };
        string target = Path.Combine(_dir, "composed");
        using (var adapter = PeftAdapter.Create(cfg, modules))
            adapter.Save(target);

        using var file = SafetensorsFile.Open(Path.Combine(target, AdapterFiles.Safetensors));
        Assert.That(file.Tensors.Select(t => t.Name), Is.EquivalentTo(new[]
        {
            "base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight", "base_model.model.model.layers.0.self_attn.q_proj.lora_B.weight",
            "base_model.model.model.layers.1.self_attn.q_proj.lora_A.weight", "base_model.model.model.layers.1.self_attn.q_proj.lora_B.weight",
            "base_model.model.model.embed_tokens.lora_embedding_A", "base_model.model.model.embed_tokens.lora_embedding_B",
        }));
        string cfgText = File.ReadAllText(Path.Combine(target, AdapterFiles.Config));
        Assert.That(cfgText, Is.EqualTo(cfg.ToJson()));
        Assert.That(cfgText, Does.Contain("\"rank_pattern\": {\n    \"layers\\\\.1\\\\.self_attn\\\\.q_proj\": 2\n  }"));

        using var back = PeftAdapter.Load(target);
        Assert.That(back.LoraModules["model.layers.1.self_attn.q_proj"].Rank, Is.EqualTo(2));
        Assert.That(back.LoraModules["model.embed_tokens"].IsEmbedding, Is.True);
        Assert.That(back.LoraModules["model.layers.0.self_attn.q_proj"].Scaling, Is.EqualTo(2.0));
        Assert.That(back.LoraModules["model.layers.1.self_attn.q_proj"].Scaling, Is.EqualTo(4.0));
    }

    [Test]
    public void Extras_And_Ia3_RoundTrip()
    {
        var cfgJson = JsonNode.Parse("""{"peft_type": "IA3", "target_modules": ["k_proj", "down_proj"], "feedforward_modules": ["down_proj"], "modules_to_save": ["score"]}""")!.AsObject();
        var cfg = AdapterConfig.FromJsonObject(cfgJson, "mem");
        var ia3 = new[]
        {
            Ia3Module.FromConfig(cfg, "model.layers.0.self_attn.k_proj", Tensor.Allocate(DType.BF16, 24, 1)),
            Ia3Module.FromConfig(cfg, "model.layers.0.mlp.down_proj", Tensor.Allocate(DType.F16, 1, 112)),
        };
        var extra = new AdapterExtraTensor("base_model.model.score.weight", "score.weight", AdapterExtraTensorKind.ModulesToSave, Tensor.Allocate(DType.F32, 2, 48));
        string target = Path.Combine(_dir, "ia3");
        using (var adapter = PeftAdapter.Create(cfg, ia3Modules: ia3, extraTensors: [extra]))
            adapter.Save(target);
        using var back = PeftAdapter.Load(target);
        Assert.That(back.Ia3Modules["model.layers.0.mlp.down_proj"].IsFeedForward, Is.True);
        Assert.That(back.Ia3Modules["model.layers.0.self_attn.k_proj"].Vector.DType, Is.EqualTo(DType.BF16));
        Assert.That(back.ExtraTensors["base_model.model.score.weight"].Kind, Is.EqualTo(AdapterExtraTensorKind.ModulesToSave));
    }

    [Test]
    public void ExistingDirectory_RefusedUnlessOverwrite_ForeignFilesAlwaysRefused()
    {
        string target = Path.Combine(_dir, "adapter");
        using var adapter = PeftAdapter.Load(Fixtures.ReferenceModel("llama-tiny/adapters/lora_qv"));
        adapter.Save(target);
        Assert.Throws<IOException>(() => adapter.Save(target));
        adapter.Save(target, overwrite: true);
        File.WriteAllText(Path.Combine(target, "notes.txt"), "mine");
        var e = Assert.Throws<IOException>(() => adapter.Save(target, overwrite: true))!;
        Assert.That(e.Message, Does.Contain("notes.txt"));
        Assert.That(File.Exists(Path.Combine(target, "notes.txt")), Is.True);
        Directory.CreateDirectory(Path.Combine(_dir, "empty"));
        adapter.Save(Path.Combine(_dir, "empty"));
        AssertNoLeftovers();
    }

    [Test]
    public void SaveOverItsOwnDirectory()
    {
        string copy = Path.Combine(_dir, "copy");
        using (var a = PeftAdapter.Load(Fixtures.ReferenceModel("gpt2-tiny/adapters/lora_a")))
            a.Save(copy);
        using (var a = PeftAdapter.Load(copy))
            a.Save(copy, overwrite: true);
        AssertSameTensors(Path.Combine(Fixtures.ReferenceModel("gpt2-tiny/adapters/lora_a"), AdapterFiles.Safetensors), Path.Combine(copy, AdapterFiles.Safetensors));
        AssertNoLeftovers();
    }

    [Test]
    public void Cancelled_LeavesNothing()
    {
        using var adapter = PeftAdapter.Load(Fixtures.ReferenceModel("llama-tiny/adapters/lora_qv"));
        using var cts = new CancellationTokenSource();
        cts.Cancel();
        Assert.That(() => adapter.Save(Path.Combine(_dir, "x"), cancellationToken: cts.Token), Throws.InstanceOf<OperationCanceledException>());
        Assert.That(Directory.Exists(Path.Combine(_dir, "x")), Is.False);
        AssertNoLeftovers();
    }

    [Test]
    public void Disposed_CannotSave()
    {
        var adapter = PeftAdapter.Load(Fixtures.ReferenceModel("llama-tiny/adapters/lora_qv"));
        adapter.Dispose();
        Assert.Throws<ObjectDisposedException>(() => adapter.Save(Path.Combine(_dir, "x")));
    }
}
