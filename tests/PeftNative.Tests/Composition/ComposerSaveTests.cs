using System.Security.Cryptography;
using System.Text.Json.Nodes;
using PeftNative.Adapters;
using PeftNative.Composition;
using PeftNative.SafeTensors;
using static PeftNative.Tests.Composition.ComposerTestKit;

namespace PeftNative.Tests.Composition;

/// <summary>Save → <see cref="PeftAdapter.Load"/> round trips, with the provenance in the weights' metadata.</summary>
[TestFixture]
public class ComposerSaveTests
{
    private string _dir = "";

    [SetUp]
    public void SetUp() => _dir = Directory.CreateTempSubdirectory("peftnative-composer-").FullName;

    [TearDown]
    public void TearDown() => Directory.Delete(_dir, recursive: true);

    [TestCase(CompositionMethod.Paper)]
    [TestCase(CompositionMethod.Exact)]
    [TestCase(CompositionMethod.Svd)]
    [TestCase(CompositionMethod.Cat)]
    public void FixtureComposition_SavesLoadsAndCarriesProvenance(CompositionMethod method)
    {
        string aDir = Fixtures.ReferenceModel("gpt2-tiny/adapters/lora_a"), bDir = Fixtures.ReferenceModel("gpt2-tiny/adapters/lora_b");
        using var a = PeftAdapter.Load(aDir);
        using var b = PeftAdapter.Load(bDir);
        var options = new CompositionOptions { Method = method, Seed = 42 };
        using var result = AdapterComposer.Compose(ModuleExpression.Parse("0.7*a - 0.3*b"), Named(("a", a), ("b", b)), options);
        string target = Path.Combine(_dir, "out");
        result.Save(target);

        using (var loaded = PeftAdapter.Load(target))
        {
            Assert.That(loaded.LoraModules.Keys, Is.EqualTo(result.Adapter.LoraModules.Keys));
            foreach (var m in result.Adapter.LoraModules.Values)
            {
                AssertBitEqual(loaded.LoraModules[m.ModulePath].A, m.A, m.ModulePath);
                AssertBitEqual(loaded.LoraModules[m.ModulePath].B, m.B, m.ModulePath);
                Assert.That(loaded.LoraModules[m.ModulePath].Scaling, Is.EqualTo(m.Scaling));
            }
            Assert.That(loaded.Config.ToJson(), Is.EqualTo(result.Adapter.Config.ToJson()));
            Assert.That(loaded.Config.InferenceMode, Is.True);
            Assert.That(loaded.Config.GetRaw("task_type")?.GetValue<string>(), Is.EqualTo("CAUSAL_LM"), "unknown and untouched fields are kept");
        }

        using var file = SafetensorsFile.Open(Path.Combine(target, "adapter_model.safetensors"));
        var meta = file.Metadata;
        Assert.That(meta["format"], Is.EqualTo("pt"));
        Assert.That(meta["peftnative.expression"], Is.EqualTo("0.7*a - 0.3*b"));
        Assert.That(meta["peftnative.method"], Is.EqualTo(method.Name()));
        var opts = JsonNode.Parse(meta["peftnative.options"])!;
        Assert.That((opts["method"]!.GetValue<string>(), opts["seed"]!.GetValue<ulong>()), Is.EqualTo((method.Name(), 42UL)));
        var terms = JsonNode.Parse(meta["peftnative.terms"])!.AsArray();
        Assert.That(terms.Select(t => (t!["adapter"]!.GetValue<string>(), t["coefficient"]!.GetValue<double>())),
            Is.EqualTo(new[] { ("a", 0.7), ("b", -0.3) }));
        var inputs = JsonNode.Parse(meta["peftnative.inputs"])!;
        foreach (var (name, dir) in new[] { ("a", aDir), ("b", bDir) })
        {
            string weights = Path.Combine(dir, "adapter_model.safetensors");
            Assert.That(inputs[name]!["path"]!.GetValue<string>(), Is.EqualTo(Path.GetFullPath(weights)));
            Assert.That(inputs[name]!["sha256"]!.GetValue<string>(), Is.EqualTo(Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(weights)))));
        }
        Assert.That(meta, Is.EquivalentTo(result.Provenance));
    }

    [Test]
    public void Ia3Composition_RoundTrips_InMemoryInputsHaveNoHash()
    {
        var rng = RandomTensors.For(nameof(Ia3Composition_RoundTrips_InMemoryInputsHaveNoHash));
        using var x = Ia3(rng, OddTargets);
        using var y = Ia3(rng, OddTargets.Take(2));
        using var result = Compose("x - 0.5*y", Named(("x", x), ("y", y)), new CompositionOptions { UnionTargets = true });
        string target = Path.Combine(_dir, "ia3");
        result.Save(target);
        using var loaded = PeftAdapter.Load(target);
        foreach (var m in result.Adapter.Ia3Modules.Values)
        {
            AssertBitEqual(loaded.Ia3Modules[m.ModulePath].Vector, m.Vector, m.ModulePath);
            Assert.That(loaded.Ia3Modules[m.ModulePath].IsFeedForward, Is.EqualTo(m.IsFeedForward));
        }
        var inputs = JsonNode.Parse(result.Provenance["peftnative.inputs"])!;
        Assert.That(inputs["x"]!["sha256"], Is.Null);
        Assert.That(inputs["x"]!["path"], Is.Null);
    }

    [Test]
    public void SaveOverAnExistingDirectory_NeedsOverwrite()
    {
        var rng = RandomTensors.For(nameof(SaveOverAnExistingDirectory_NeedsOverwrite));
        using var a = Lora(rng, OddTargets, 2, 2);
        using var result = Compose("-a", Named(("a", a)));
        string target = Path.Combine(_dir, "twice");
        result.Save(target);
        Assert.Throws<IOException>(() => result.Save(target));
        result.Save(target, overwrite: true);
        using var loaded = PeftAdapter.Load(target);
        Assert.That(loaded.ModuleCount, Is.EqualTo(3));
    }

    [Test]
    public void PeftAdapterSave_WithMetadata_KeepsFormatPt()
    {
        var rng = RandomTensors.For(nameof(PeftAdapterSave_WithMetadata_KeepsFormatPt));
        using var a = Lora(rng, OddTargets, 2, 2);
        string target = Path.Combine(_dir, "meta");
        a.Save(target, new Dictionary<string, string> { ["format"] = "np", ["note"] = "hello" });
        using var file = SafetensorsFile.Open(Path.Combine(target, "adapter_model.safetensors"));
        Assert.That(file.Metadata, Is.EquivalentTo(new Dictionary<string, string> { ["format"] = "pt", ["note"] = "hello" }));
    }
}
