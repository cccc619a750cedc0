using PeftNative.Adapters;
using PeftNative.Composition;
using static PeftNative.Tests.Composition.ComposerTestKit;

namespace PeftNative.Tests.Composition;

/// <summary>Method details: embeddings and Conv1D layouts, PEFT's svd_clamp, seeded DARE, the output config.</summary>
[TestFixture]
public class ComposerMethodTests
{
    private static PeftAdapter EmbeddingAndConv1D(Random rng, int r, double alpha)
    {
        var config = AdapterConfig.CreateLora(r, alpha, ModuleSelector.FromNames(["wte", "c_attn"]), fanInFanOut: true);
        var modules = new[]
        {
            LoraModule.FromConfig(config, "transformer.wte", RandomTensors.Create(rng, DType.F32, [r, 11]), RandomTensors.Create(rng, DType.F32, [6, r]), isEmbedding: true),
            LoraModule.FromConfig(config, "transformer.h.0.attn.c_attn", RandomTensors.Create(rng, DType.F32, [r, 6]), RandomTensors.Create(rng, DType.F32, [18, r])),
        };
        return PeftAdapter.Create(config, modules);
    }

    [TestCase(CompositionMethod.Paper)]
    [TestCase(CompositionMethod.Exact)]
    [TestCase(CompositionMethod.Cat)]
    [TestCase(CompositionMethod.Svd)]
    public void EmbeddingsAndFanInFanOut_KeepPeftsFactorOrientation(CompositionMethod method)
    {
        var rng = RandomTensors.For($"{nameof(EmbeddingsAndFanInFanOut_KeepPeftsFactorOrientation)}/{method}");
        using var a = EmbeddingAndConv1D(rng, 3, 6);
        using var b = EmbeddingAndConv1D(rng, 3, 6);
        using var result = Compose("0.4*a - 0.2*b", Named(("a", a), ("b", b)), new CompositionOptions { Method = method, Rank = 6 });
        Assert.That(result.Adapter.Config.FanInFanOut, Is.True);
        foreach (var path in a.LoraModules.Keys)
        {
            var got = result.Adapter.LoraModules[path];
            var (ma, mb) = (a.LoraModules[path], b.LoraModules[path]);
            Assert.That((got.IsEmbedding, got.FanInFanOut), Is.EqualTo((ma.IsEmbedding, ma.FanInFanOut)), path);
            Assert.That((got.InFeatures, got.OutFeatures), Is.EqualTo((ma.InFeatures, ma.OutFeatures)), path);
            var expected = method == CompositionMethod.Paper
                ? (0.4 * Matrix(ma.B) - 0.2 * Matrix(mb.B)) * (0.4 * Matrix(ma.A) + 0.2 * Matrix(mb.A)) * ma.Scaling
                : 0.4 * Dense(ma) - 0.2 * Dense(mb);
            Assert.That(RelativeError(Dense(got), expected), Is.LessThan(1e-6), path);
        }
        Assert.That(result.Adapter.LoraModules["transformer.wte"].ATensorName, Does.EndWith("lora_embedding_A"));
    }

    [Test]
    public void SvdClamp_ClampsBothFactorsToPeftsQuantile()
    {
        var rng = RandomTensors.For(nameof(SvdClamp_ClampsBothFactorsToPeftsQuantile));
        using var a = Lora(rng, OddTargets, r: 4, alpha: 4);
        using var b = Lora(rng, OddTargets, r: 4, alpha: 4);
        var adapters = Named(("a", a), ("b", b));
        using var plain = Compose("a + b", adapters, new CompositionOptions { Method = CompositionMethod.Svd });
        using var clamped = Compose("a + b", adapters, new CompositionOptions { Method = CompositionMethod.Svd, SvdClamp = 0.9 });
        foreach (var t in OddTargets)
        {
            var p = plain.Adapter.LoraModules[t.Path];
            var values = RandomTensors.ToDoubles(p.B).Concat(RandomTensors.ToDoubles(p.A)).Order().ToArray();
            // torch.quantile, linear interpolation
            double pos = 0.9 * (values.Length - 1);
            int lo = (int)Math.Floor(pos);
            double h = values[lo] + ((values[Math.Min(lo + 1, values.Length - 1)] - values[lo]) * (pos - lo));
            var c = clamped.Adapter.LoraModules[t.Path];
            var expectB = RandomTensors.ToDoubles(p.B).Select(v => Math.Min(Math.Max(v, -h), h)).ToArray();
            var expectA = RandomTensors.ToDoubles(p.A).Select(v => Math.Min(Math.Max(v, -h), h)).ToArray();
            Assert.That(RandomTensors.ToDoubles(c.B), Is.EqualTo(expectB).Within(1e-6), t.Path);
            Assert.That(RandomTensors.ToDoubles(c.A), Is.EqualTo(expectA).Within(1e-6), t.Path);
        }
    }

    [TestCase(CompositionMethod.DareLinear)]
    [TestCase(CompositionMethod.DareTiesSvd)]
    public void Dare_SameSeedSameResult_OtherSeedOther(CompositionMethod method)
    {
        var rng = RandomTensors.For($"{nameof(Dare_SameSeedSameResult_OtherSeedOther)}/{method}");
        using var a = Lora(rng, OddTargets, r: 3, alpha: 3);
        using var b = Lora(rng, OddTargets, r: 3, alpha: 3);
        var adapters = Named(("a", a), ("b", b));
        CompositionResult Run(ulong seed) => Compose("0.5*a + 0.5*b", adapters, new CompositionOptions { Method = method, Density = 0.5, Seed = seed });
        using var first = Run(7);
        using var again = Run(7);
        using var other = Run(8);
        string path = OddTargets[0].Path;
        AssertBitEqual(again.Adapter.LoraModules[path].B, first.Adapter.LoraModules[path].B, path);
        Assert.That(RandomTensors.ToDoubles(other.Adapter.LoraModules[path].B), Is.Not.EqualTo(RandomTensors.ToDoubles(first.Adapter.LoraModules[path].B)));
    }

    [Test]
    public void OutputConfig_KeepsTheFirstAdaptersPatternsWhenTheyFit()
    {
        var rng = RandomTensors.For(nameof(OutputConfig_KeepsTheFirstAdaptersPatternsWhenTheyFit));
        var ranks = new Dictionary<string, int> { ["v_proj"] = 5 };
        var alphas = new Dictionary<string, double> { ["down_proj"] = 1.5 };
        using var a = Lora(rng, OddTargets, r: 2, alpha: 4, rankPattern: ranks, alphaPattern: alphas);
        using var b = Lora(rng, OddTargets, r: 2, alpha: 4, rankPattern: ranks, alphaPattern: alphas);
        using var paper = Compose("a - b", Named(("a", a), ("b", b)));
        Assert.That(paper.Adapter.Config.RankPattern, Is.EqualTo(ranks));
        Assert.That(paper.Adapter.Config.AlphaPattern, Is.EqualTo(alphas));
        Assert.That(paper.Adapter.Config.InferenceMode, Is.True);

        using var exact = Compose("a - b", Named(("a", a), ("b", b)), new CompositionOptions { Method = CompositionMethod.Exact });
        var cfg = exact.Adapter.Config;
        Assert.That((cfg.R, cfg.LoraAlpha), Is.EqualTo((4, 4.0)));
        Assert.That(cfg.RankPattern, Is.EqualTo(new Dictionary<string, int> { [@"model\.layers\.0\.self_attn\.v_proj"] = 10 }));
        Assert.That(cfg.AlphaPattern, Is.EqualTo(new Dictionary<string, double> { [@"model\.layers\.0\.self_attn\.v_proj"] = 10 }));
        Assert.That(OddTargets.Select(t => cfg.ScalingFor(t.Path)), Is.All.EqualTo(1.0));
    }

    [Test]
    public void RegexTargets_UniteAsPeftDoes()
    {
        var rng = RandomTensors.For(nameof(RegexTargets_UniteAsPeftDoes));
        PeftAdapter Make(string regex)
        {
            var config = AdapterConfig.CreateLora(2, 2, ModuleSelector.FromRegex(regex));
            return PeftAdapter.Create(config, OddTargets.Select(t => LoraModule.FromConfig(config, t.Path,
                RandomTensors.Create(rng, DType.F32, [2, t.In]), RandomTensors.Create(rng, DType.F32, [t.Out, 2]))).ToList());
        }
        using var a = Make(@".*\.(q_proj|v_proj|down_proj)");
        using var b = Make(@".*_proj");
        using var result = Compose("a + b", Named(("a", a), ("b", b)));
        Assert.That(result.Adapter.Config.TargetModules.Pattern, Is.EqualTo(@"(.*\.(q_proj|v_proj|down_proj))|(.*_proj)"));
    }
}
