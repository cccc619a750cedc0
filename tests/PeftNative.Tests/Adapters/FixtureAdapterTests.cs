using PeftNative.Adapters;
using PeftNative.SafeTensors;

namespace PeftNative.Tests.Adapters;

/// <summary>
/// Every PEFT adapter among the fixtures (reference-model adapters, PEFT add_weighted_adapter
/// outputs, real published adapters) loads with the ranks, alphas, scalings, targets,
/// fan_in_fan_out and module counts its config and file imply. The expectations are derived from
/// the config file and the raw safetensors header independently of the adapter code, and, for
/// named adapters, written out by hand.
/// </summary>
[TestFixture]
public class FixtureAdapterTests
{
    public static IEnumerable<string> AdapterDirectories()
    {
        string? root = Fixtures.Root;
        if (root is null)
            yield break;
        foreach (string cfg in Directory.EnumerateFiles(root, AdapterFiles.Config, SearchOption.AllDirectories).Order(StringComparer.Ordinal))
            yield return Path.GetRelativePath(root, Path.GetDirectoryName(cfg)!);
    }

    [TestCaseSource(nameof(AdapterDirectories))]
    public void Loads_ConsistentWithConfigAndHeader(string relative)
    {
        string dir = Fixtures.Require(relative);
        var config = AdapterConfig.Load(Path.Combine(dir, AdapterFiles.Config));
        using var raw = SafetensorsFile.Open(Path.Combine(dir, AdapterFiles.Safetensors));
        using var adapter = PeftAdapter.Load(dir);
        Assert.That(adapter.DirectoryPath, Is.EqualTo(Path.GetFullPath(dir)));
        Assert.That(adapter.ExtraTensors, Is.Empty);

        if (config.PeftType == PeftType.Lora)
        {
            Assert.That(adapter.LoraModules.Count * 2, Is.EqualTo(raw.Tensors.Count), "one A and one B per module");
            foreach (var m in adapter.LoraModules.Values)
            {
                var a = raw.GetInfo($"base_model.model.{m.ModulePath}.lora_A.weight");
                var b = raw.GetInfo($"base_model.model.{m.ModulePath}.lora_B.weight");
                Assert.That(m.Rank, Is.EqualTo(a.Shape[0]));
                Assert.That((m.InFeatures, m.OutFeatures), Is.EqualTo((a.Shape[1], b.Shape[0])));
                Assert.That(m.A.DType, Is.EqualTo(a.DType));
                Assert.That(m.Rank, Is.EqualTo(config.RankFor(m.ModulePath)));
                Assert.That(m.Alpha, Is.EqualTo(config.AlphaFor(m.ModulePath)));
                double r = m.Rank;
                Assert.That(m.Scaling, Is.EqualTo(config.UseRsLora ? m.Alpha / Math.Sqrt(r) : m.Alpha / r));
                Assert.That(m.FanInFanOut, Is.EqualTo(config.FanInFanOut));
                Assert.That(config.Targets(m.ModulePath), Is.True);
                // Zero-copy: the module's A is the file's bytes.
                Assert.That(m.A.AsBytes().SequenceEqual(raw.GetTensor(a.Name).AsBytes()), Is.True);
            }
        }
        else
        {
            Assert.That(adapter.Ia3Modules.Count, Is.EqualTo(raw.Tensors.Count));
            foreach (var m in adapter.Ia3Modules.Values)
            {
                var info = raw.GetInfo($"base_model.model.{m.ModulePath}.ia3_l");
                Assert.That(m.IsFeedForward, Is.EqualTo(info.Shape[0] == 1), "feed-forward vectors are [1, in]");
                Assert.That(m.IsFeedForward, Is.EqualTo(config.IsFeedForward(m.ModulePath)));
                Assert.That(m.FanInFanOut, Is.EqualTo(config.FanInFanOut));
            }
        }
    }

    [Test]
    public void Tigrinya_Gpt2_36Modules_Scaling4()
    {
        using var a = PeftAdapter.Load(Fixtures.RealAdapter("gpt2-tigrinya-lora"));
        Assert.That(a.LoraModules, Has.Count.EqualTo(36));
        var paths = Enumerable.Range(0, 12).SelectMany(l => new[]
        {
            $"transformer.h.{l}.attn.c_attn", $"transformer.h.{l}.attn.c_proj", $"transformer.h.{l}.mlp.c_proj",
        });
        Assert.That(a.LoraModules.Keys, Is.EquivalentTo(paths), "c_proj matches attn.c_proj and mlp.c_proj; c_fc is not targeted");
        foreach (var m in a.LoraModules.Values)
        {
            Assert.That((m.Rank, m.Alpha, m.Scaling, m.FanInFanOut, m.UpdateIsTransposed), Is.EqualTo((8, 32.0, 4.0, true, true)));
            Assert.That(m.A.DType, Is.EqualTo(DType.F32));
        }
        Assert.That(a.LoraModules["transformer.h.0.attn.c_attn"].B.ShapeText, Is.EqualTo("2304x8"));
        Assert.That(a.LoraModules["transformer.h.0.mlp.c_proj"].A.ShapeText, Is.EqualTo("8x3072"));
    }

    [TestCase("smollm135m-medical-lora-5ep")]
    [TestCase("smollm135m-medical-lora-100ep")]
    public void SmolLm_60Modules_GroupedQueryShapes(string name)
    {
        using var a = PeftAdapter.Load(Fixtures.RealAdapter(name));
        Assert.That(a.LoraModules, Has.Count.EqualTo(60));
        Assert.That(a.LoraModules.Keys, Is.EquivalentTo(Enumerable.Range(0, 30).SelectMany(l => new[]
        {
            $"model.layers.{l}.self_attn.q_proj", $"model.layers.{l}.self_attn.v_proj",
        })));
        foreach (var m in a.LoraModules.Values)
            Assert.That((m.Rank, m.Alpha, m.Scaling, m.FanInFanOut, m.InFeatures), Is.EqualTo((16, 32.0, 2.0, false, 576L)));
        Assert.That(a.LoraModules["model.layers.7.self_attn.q_proj"].B.ShapeText, Is.EqualTo("576x16"));
        Assert.That(a.LoraModules["model.layers.7.self_attn.v_proj"].B.ShapeText, Is.EqualTo("192x16"));
    }

    [Test]
    public void Gpt2Tiny_RsLoraPattern_ScalingsByHand()
    {
        using var a = PeftAdapter.Load(Fixtures.ReferenceModel("gpt2-tiny/adapters/lora_rslora_pattern"));
        Assert.That(a.LoraModules, Has.Count.EqualTo(4));
        foreach (int l in new[] { 0, 1 })
        {
            var attn = a.LoraModules[$"transformer.h.{l}.attn.c_attn"];
            var fc = a.LoraModules[$"transformer.h.{l}.mlp.c_fc"];
            // r=4, lora_alpha=6, rsLoRA: 6 / sqrt(4) = 3. rank_pattern c_fc: 2, alpha_pattern c_fc: 3: 3 / sqrt(2).
            Assert.That((attn.Rank, attn.Alpha, attn.Scaling), Is.EqualTo((4, 6.0, 3.0)));
            Assert.That((fc.Rank, fc.Alpha, fc.Scaling), Is.EqualTo((2, 3.0, 3.0 / Math.Sqrt(2.0))));
            Assert.That(fc.UseRsLora && attn.UseRsLora, Is.True);
        }
    }

    [TestCase("gpt2-tiny/adapters/lora_a")]
    [TestCase("gpt2-tiny/adapters/lora_b")]
    public void Gpt2Tiny_Lora_8Modules(string dir)
    {
        using var a = PeftAdapter.Load(Fixtures.ReferenceModel(dir));
        Assert.That(a.LoraModules, Has.Count.EqualTo(8));
        foreach (var m in a.LoraModules.Values)
            Assert.That((m.Rank, m.Scaling, m.FanInFanOut), Is.EqualTo((4, 2.0, true)));
        Assert.That(a.LoraModules["transformer.h.1.mlp.c_proj"].A.ShapeText, Is.EqualTo("4x128"));
    }

    [TestCase("gpt2-tiny/adapters/ia3_a")]
    [TestCase("gpt2-tiny/adapters/ia3_b")]
    public void Gpt2Tiny_Ia3_FeedForwardFlags(string dir)
    {
        using var a = PeftAdapter.Load(Fixtures.ReferenceModel(dir));
        Assert.That(a.Type, Is.EqualTo(PeftType.Ia3));
        Assert.That(a.Ia3Modules, Has.Count.EqualTo(4));
        foreach (int l in new[] { 0, 1 })
        {
            var attn = a.Ia3Modules[$"transformer.h.{l}.attn.c_attn"];
            var proj = a.Ia3Modules[$"transformer.h.{l}.mlp.c_proj"];
            Assert.That((attn.IsFeedForward, attn.Length, attn.FanInFanOut), Is.EqualTo((false, 96L, true)));
            Assert.That((proj.IsFeedForward, proj.Length, proj.FanInFanOut), Is.EqualTo((true, 128L, true)));
        }
    }

    [TestCase("llama-tiny/adapters/ia3")]
    [TestCase("llama-tiny/adapters/ia3_b")]
    public void LlamaTiny_Ia3_FeedForwardFlags(string dir)
    {
        using var a = PeftAdapter.Load(Fixtures.ReferenceModel(dir));
        Assert.That(a.Ia3Modules, Has.Count.EqualTo(6));
        foreach (int l in new[] { 0, 1 })
        {
            Assert.That(a.Ia3Modules[$"model.layers.{l}.mlp.down_proj"].IsFeedForward, Is.True);
            Assert.That(a.Ia3Modules[$"model.layers.{l}.mlp.down_proj"].Vector.ShapeText, Is.EqualTo("1x112"));
            Assert.That(a.Ia3Modules[$"model.layers.{l}.self_attn.k_proj"].IsFeedForward, Is.False);
            Assert.That(a.Ia3Modules[$"model.layers.{l}.self_attn.v_proj"].Vector.ShapeText, Is.EqualTo("24x1"));
        }
    }

    [TestCase("llama-tiny/adapters/lora_qv", 4, 4, 2.0, DType.F32)]
    [TestCase("llama-tiny/adapters/lora_qv_bf16", 4, 8, 2.0, DType.BF16)]
    [TestCase("llama-tiny/adapters/lora_all_a", 14, 2, 2.0, DType.F32)]
    [TestCase("llama-tiny/adapters/lora_all_b", 14, 2, 2.0, DType.F32)]
    [TestCase("gpt2-tiny/weighted/cat", 8, 8, 1.0, DType.F32)]
    [TestCase("gpt2-tiny/weighted/svd_rank2", 8, 2, 1.0, DType.F32)]
    public void Counts_Ranks_Scalings(string dir, int modules, int rank, double scaling, DType dtype)
    {
        using var a = PeftAdapter.Load(Fixtures.ReferenceModel(dir));
        Assert.That(a.LoraModules, Has.Count.EqualTo(modules));
        foreach (var m in a.LoraModules.Values)
        {
            Assert.That((m.Rank, m.Scaling), Is.EqualTo((rank, scaling)));
            Assert.That((m.A.DType, m.B.DType), Is.EqualTo((dtype, dtype)));
        }
    }

    [Test]
    public void LoadedTensors_DieWithTheAdapter()
    {
        var a = PeftAdapter.Load(Fixtures.ReferenceModel("llama-tiny/adapters/lora_qv"));
        var m = a.LoraModules.Values.First();
        Assert.That(m.A.AsSpan<float>().Length, Is.EqualTo(4 * 48));
        a.Dispose();
        Assert.That(a.IsDisposed, Is.True);
    }
}
