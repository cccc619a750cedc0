using PeftNative.Adapters;
using PeftNative.Composition;
using PeftNative.Merging;
using PeftNative.SafeTensors;

namespace PeftNative.Tests.Merging;

/// <summary>
/// Merges of the shared reference adapters against the merged models computed by independent
/// references (reference-models/*/merged): every tensor of the expected model is compared, the
/// LoRA and (IA)^3 ones and the untouched ones alike.
/// </summary>
[TestFixture]
public class ReferenceFixtureMergeTests
{
    private string _root = "";

    [SetUp]
    public void SetUp() => _root = TestModels.NewDirectory("fixtures");

    [TearDown]
    public void TearDown() => TestModels.Delete(_root);

    [TestCase("gpt2-tiny", "lora_a")]
    [TestCase("gpt2-tiny", "ia3_a")]
    [TestCase("llama-tiny", "lora_qv")]
    [TestCase("llama-tiny", "ia3")]
    public void SingleAdapter_MatchesTheReferenceMergedModel(string model, string adapterName)
    {
        using var adapter = PeftAdapter.Load(Fixtures.ReferenceModel($"{model}/adapters/{adapterName}"));
        string output = Path.Combine(_root, "out");
        ModelMerger.Merge(Fixtures.ReferenceModel($"{model}/base"), adapter, output, new MergeOptions { Diagnostics = _ => { }, Durable = false });
        AssertEveryTensorClose(output, Fixtures.ReferenceModel($"{model}/merged/{adapterName}"));
    }

    [Test]
    public void PaperAddition_MatchesTheReferenceMergedModel()
    {
        using var a = PeftAdapter.Load(Fixtures.ReferenceModel("gpt2-tiny/adapters/lora_a"));
        using var b = PeftAdapter.Load(Fixtures.ReferenceModel("gpt2-tiny/adapters/lora_b"));
        using var composed = AdapterComposer.Compose(ModuleExpression.Parse("0.3*a + 0.7*b"), new Dictionary<string, PeftAdapter> { ["a"] = a, ["b"] = b });
        string output = Path.Combine(_root, "out");
        ModelMerger.Merge(Fixtures.ReferenceModel("gpt2-tiny/base"), composed.Adapter, output, new MergeOptions { Diagnostics = _ => { }, Durable = false });
        AssertEveryTensorClose(output, Fixtures.ReferenceModel("gpt2-tiny/merged/pem_add_a0.3_b0.7"));
    }

    /// <summary>Every expected tensor: |got - expected| &lt;= 1e-5 · (|expected| + max |expected| of the tensor · 1e-1).</summary>
    internal static void AssertEveryTensorClose(string actualDir, string expectedDir)
    {
        using var actual = SafetensorsCollection.Open(actualDir);
        using var expected = SafetensorsCollection.Open(expectedDir);
        Assert.That(actual.Tensors.Select(t => t.Name), Is.EquivalentTo(expected.Tensors.Select(t => t.Name)));
        foreach (var info in expected.Tensors)
        {
            double[] e = RandomTensors.ToDoubles(expected.GetTensor(info.Name));
            double[] g = RandomTensors.ToDoubles(actual.GetTensor(info.Name));
            double scale = e.Max(Math.Abs);
            for (int i = 0; i < e.Length; i++)
            {
                double allowed = 1e-5 * (Math.Abs(e[i]) + 0.1 * scale);
                if (!(Math.Abs(g[i] - e[i]) <= allowed))
                    Assert.Fail(Tolerances.CultureInvariant($"{info.Name}[{i}]: expected {e[i]:R}, got {g[i]:R} (allowed {allowed:G3})"));
            }
        }
    }
}
