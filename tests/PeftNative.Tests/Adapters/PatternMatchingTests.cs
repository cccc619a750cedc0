using System.Text.Json.Nodes;
using PeftNative.Adapters;

namespace PeftNative.Tests.Adapters;

/// <summary>
/// PEFT's matching rules, case by case: target_modules (src/peft/tuners/tuners_utils.py
/// check_target_module_exists), rank_pattern/alpha_pattern (src/peft/utils/other.py
/// get_pattern_key), (IA)^3 feedforward_modules (src/peft/tuners/ia3/model.py).
/// </summary>
[TestFixture]
public class PatternMatchingTests
{
    private static AdapterConfig Lora(Action<JsonObject> edit)
    {
        var o = new JsonObject
        {
            ["peft_type"] = "LORA",
            ["r"] = 8,
            ["lora_alpha"] = 16,
            ["target_modules"] = new JsonArray("c_attn", "c_proj"),
        };
        edit(o);
        return AdapterConfig.FromJsonObject(o, "test");
    }

    [TestCase("transformer.h.0.attn.c_attn", true)]
    [TestCase("transformer.h.0.attn.c_proj", true)]
    [TestCase("transformer.h.11.mlp.c_proj", true)]
    [TestCase("c_proj", true)]
    [TestCase("transformer.h.0.mlp.c_fc", false)]
    [TestCase("transformer.h.0.attn.xc_proj", false)]
    [TestCase("transformer.h.0.attn.c_proj2", false)]
    [TestCase("transformer.h.0.attn.c_proj.inner", false)]
    public void ListTarget_ExactNameOrDottedSuffix(string path, bool expected) =>
        Assert.That(Lora(_ => { }).Targets(path), Is.EqualTo(expected));

    [TestCase("transformer.h.0.attn.c_proj", true)]
    [TestCase("transformer.h.0.mlp.c_proj", false)]
    [TestCase("xtransformer.h.0.attn.c_proj", true)]
    [TestCase("h.0.attn.c_proj", false)]
    public void RegexTarget_FullMatch(string path, bool expected) =>
        Assert.That(Lora(o => o["target_modules"] = @".*transformer\.h\.\d+\.attn\.c_proj").Targets(path), Is.EqualTo(expected));

    [Test]
    public void RegexTarget_PythonNamedGroupSyntax()
    {
        var c = Lora(o => o["target_modules"] = @".*\.(?P<proj>q|v)_proj");
        Assert.That(c.Targets("model.layers.0.self_attn.q_proj"), Is.True);
        Assert.That(c.Targets("model.layers.0.self_attn.k_proj"), Is.False);
        var backref = Lora(o => o["target_modules"] = @"(?P<a>x)\.(?P=a)");
        Assert.That(backref.Targets("x.x"), Is.True);
        Assert.That(backref.Targets("x.y"), Is.False);
    }

    [Test]
    public void RegexTarget_BackslashZ_IsEndOfStringOnly()
    {
        var c = Lora(o => o["target_modules"] = @".*q_proj\Z");
        Assert.That(c.Targets("a.q_proj"), Is.True);
        Assert.That(c.Targets("a.q_proj\n"), Is.False);
    }

    [Test]
    public void ExcludeModules_ListAndRegex()
    {
        var list = Lora(o => o["exclude_modules"] = new JsonArray("mlp.c_proj"));
        Assert.That(list.Targets("transformer.h.0.attn.c_proj"), Is.True);
        Assert.That(list.Targets("transformer.h.0.mlp.c_proj"), Is.False);
        var regex = Lora(o => o["exclude_modules"] = @".*h\.1\..*");
        Assert.That(regex.Targets("transformer.h.0.attn.c_attn"), Is.True);
        Assert.That(regex.Targets("transformer.h.1.attn.c_attn"), Is.False);
    }

    [Test]
    public void ModulesToSave_AreNeverTargets()
    {
        var c = Lora(o => { o["target_modules"] = new JsonArray("score", "q_proj"); o["modules_to_save"] = new JsonArray("score"); });
        Assert.That(c.Targets("score"), Is.False);
        Assert.That(c.Targets("model.score"), Is.False);
        Assert.That(c.Targets("model.layers.0.self_attn.q_proj"), Is.True);
    }

    [Test]
    public void LayersToTransform_DefaultPattern()
    {
        var c = Lora(o => { o["target_modules"] = new JsonArray("q_proj"); o["layers_to_transform"] = new JsonArray(1, 3); });
        Assert.That(c.Targets("model.layers.1.self_attn.q_proj"), Is.True);
        Assert.That(c.Targets("model.layers.3.self_attn.q_proj"), Is.True);
        Assert.That(c.Targets("model.layers.0.self_attn.q_proj"), Is.False);
        Assert.That(c.Targets("model.layers.13.self_attn.q_proj"), Is.False);
        Assert.That(c.Targets("q_proj"), Is.True, "a path equal to a target name skips the layer check, as in PEFT");
        Assert.That(c.Targets("lm.q_proj"), Is.False, "no layer index in the path");
    }

    [Test]
    public void LayersToTransform_IntAndLayersPattern()
    {
        var c = Lora(o => { o["layers_to_transform"] = 1; o["layers_pattern"] = "h"; });
        Assert.That(c.LayersToTransform, Is.EqualTo(new[] { 1 }));
        Assert.That(c.Targets("transformer.h.1.attn.c_attn"), Is.True);
        Assert.That(c.Targets("transformer.h.0.attn.c_attn"), Is.False);
        var wrongPattern = Lora(o => { o["layers_to_transform"] = new JsonArray(0); o["layers_pattern"] = new JsonArray("layers", "blocks"); });
        Assert.That(wrongPattern.Targets("transformer.h.0.attn.c_attn"), Is.False, "the layer must sit under a layers_pattern name");
        Assert.That(wrongPattern.Targets("model.blocks.0.attn.c_attn"), Is.True);
    }

    [Test]
    public void EmptyLayersToTransform_MeansAllLayers() =>
        Assert.That(Lora(o => o["layers_to_transform"] = new JsonArray()).Targets("transformer.h.7.attn.c_attn"), Is.True);

    [TestCase("transformer.h.0.mlp.c_fc", 2)]
    [TestCase("c_fc", 2)]
    [TestCase("transformer.h.0.mlp.c_fc2", 8)]
    [TestCase("transformer.h.0.mlp.xc_fc", 8)]
    [TestCase("transformer.h.0.attn.c_attn", 8)]
    public void RankPattern_SuffixAfterDot(string path, int expected) =>
        Assert.That(Lora(o => o["rank_pattern"] = new JsonObject { ["c_fc"] = 2 }).RankFor(path), Is.EqualTo(expected));

    [Test]
    public void RankPattern_RegexKeys_FirstMatchWins()
    {
        var a = Lora(o => o["rank_pattern"] = new JsonObject { ["c_fc"] = 2, [@"h\.0\.mlp\.c_fc"] = 6 });
        Assert.That(a.RankFor("transformer.h.0.mlp.c_fc"), Is.EqualTo(2));
        var b = Lora(o => o["rank_pattern"] = new JsonObject { [@"h\.0\.mlp\.c_fc"] = 6, ["c_fc"] = 2 });
        Assert.That(b.RankFor("transformer.h.0.mlp.c_fc"), Is.EqualTo(6));
        Assert.That(b.RankFor("transformer.h.1.mlp.c_fc"), Is.EqualTo(2));
        Assert.That(b.RankPatternKeyFor("transformer.h.1.mlp.c_fc"), Is.EqualTo("c_fc"));
    }

    [Test]
    public void RankPattern_AlternationIsGrouped()
    {
        // The key is wrapped as (key): "q_proj|v_proj" must not turn into "(.*\.)?q_proj" OR "v_proj$".
        var c = Lora(o => o["rank_pattern"] = new JsonObject { ["q_proj|v_proj"] = 4 });
        Assert.That(c.RankFor("model.layers.0.self_attn.v_proj"), Is.EqualTo(4));
        Assert.That(c.RankFor("model.layers.0.self_attn.q_proj"), Is.EqualTo(4));
        Assert.That(c.RankFor("model.layers.0.self_attn.q_proj_extra"), Is.EqualTo(8));
    }

    [Test]
    public void AlphaPattern_AndScaling()
    {
        var c = Lora(o =>
        {
            o["rank_pattern"] = new JsonObject { ["c_fc"] = 2 };
            o["alpha_pattern"] = new JsonObject { ["c_fc"] = 3.5 };
        });
        Assert.That(c.AlphaFor("transformer.h.0.mlp.c_fc"), Is.EqualTo(3.5));
        Assert.That(c.ScalingFor("transformer.h.0.mlp.c_fc"), Is.EqualTo(3.5 / 2));
        Assert.That(c.ScalingFor("transformer.h.0.attn.c_attn"), Is.EqualTo(16.0 / 8));
        c.UseRsLora = true;
        Assert.That(c.ScalingFor("transformer.h.0.mlp.c_fc"), Is.EqualTo(3.5 / Math.Sqrt(2)));
        Assert.That(c.ScalingFor("transformer.h.0.attn.c_attn"), Is.EqualTo(16.0 / Math.Sqrt(8)));
    }

    [Test]
    public void Ia3Feedforward_ListIsPlainSuffix_RegexIsFullMatch()
    {
        var list = AdapterConfig.CreateIa3(ModuleSelector.FromNames(["c_attn", "mlp.c_proj"]), ModuleSelector.FromNames(["mlp.c_proj"]));
        Assert.That(list.IsFeedForward("transformer.h.0.mlp.c_proj"), Is.True);
        Assert.That(list.IsFeedForward("transformer.h.0.attn.c_proj"), Is.False);
        // PEFT uses key.endswith(target_key) without a dot here.
        var loose = AdapterConfig.CreateIa3(ModuleSelector.FromNames(["proj"]), ModuleSelector.FromNames(["proj"]));
        Assert.That(loose.IsFeedForward("model.layers.0.mlp.down_proj"), Is.True);
        var regex = AdapterConfig.CreateIa3(ModuleSelector.FromRegex(@".*\.(k_proj|down_proj)"), ModuleSelector.FromRegex(@".*down_proj"));
        Assert.That(regex.IsFeedForward("model.layers.0.mlp.down_proj"), Is.True);
        Assert.That(regex.IsFeedForward("model.layers.0.mlp.down_proj.x"), Is.False);
    }

    [Test]
    public void AllLinear_MatchesEverything()
    {
        var c = Lora(o => o["target_modules"] = "all-linear");
        Assert.That(c.TargetModules.IsAllLinear, Is.True);
        Assert.That(c.Targets("model.layers.0.mlp.up_proj"), Is.True);
    }

    [Test]
    public void Union_AsAddWeightedAdapter()
    {
        var u = ModuleSelector.FromNames(["q_proj", "v_proj"]).Union(ModuleSelector.FromNames(["v_proj", "k_proj"]));
        Assert.That(u.Names, Is.EqualTo(new[] { "q_proj", "v_proj", "k_proj" }));
        var r = ModuleSelector.FromRegex("a").Union(ModuleSelector.FromRegex("b"));
        Assert.That(r.Pattern, Is.EqualTo("(a)|(b)"));
        Assert.That(r.Matches("b"), Is.True);
        Assert.Throws<ArgumentException>(() => ModuleSelector.FromRegex("a").Union(ModuleSelector.FromNames(["a"])));
    }

    [Test]
    public void CatastrophicRegex_TimesOutAsFormatError()
    {
        var c = Lora(o => o["target_modules"] = "(a+)+$");
        string evil = new string('a', 40) + "!";
        var e = Assert.Throws<AdapterFormatException>(() => c.Targets(evil))!;
        Assert.That(e.Message, Does.Contain("took too long"));
    }
}
