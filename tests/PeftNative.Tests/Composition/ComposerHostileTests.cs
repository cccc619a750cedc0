using PeftNative.Adapters;
using PeftNative.Composition;
using static PeftNative.Tests.Composition.ComposerTestKit;

namespace PeftNative.Tests.Composition;

/// <summary>Bad inputs get clear exceptions that name the adapter, module or option, before any work is done.</summary>
[TestFixture]
public class ComposerHostileTests
{
    private readonly List<PeftAdapter> _adapters = [];

    [TearDown]
    public void TearDown()
    {
        DisposeAll(_adapters);
        _adapters.Clear();
    }

    private PeftAdapter Keep(PeftAdapter a)
    {
        _adapters.Add(a);
        return a;
    }

    private PeftAdapter NewLora(string seed, int r = 2, double alpha = 4, IEnumerable<TestTarget>? targets = null, string? baseModel = BaseModel,
        bool fanInFanOut = false, IReadOnlyDictionary<string, int>? rankPattern = null) =>
        Keep(Lora(RandomTensors.For(seed), targets ?? OddTargets, r, alpha, fanInFanOut: fanInFanOut, baseModel: baseModel, rankPattern: rankPattern));

    [Test]
    public void UnknownAdapterName_IsNamed()
    {
        var e = Assert.Throws<ArgumentException>(() => Compose("a + missing", Named(("a", NewLora("a")), ("b", NewLora("b")))));
        Assert.That(e!.Message, Does.Contain("'missing'").And.Contain("a, b"));
    }

    [Test]
    public void LoraMixedWithIa3_IsRefused()
    {
        var ia3 = Keep(Ia3(RandomTensors.For("ia3"), OddTargets));
        var e = Assert.Throws<ArgumentException>(() => Compose("a + i", Named(("a", NewLora("a")), ("i", ia3))));
        Assert.That(e!.Message, Does.Contain("'a' is LoRA").And.Contain("'i' is (IA)^3"));
    }

    [Test]
    public void DifferentBaseModels_AreNamedBoth()
    {
        var e = Assert.Throws<ArgumentException>(() =>
            Compose("a + b", Named(("a", NewLora("a", baseModel: "org/model-one")), ("b", NewLora("b", baseModel: "org/model-two")))));
        Assert.That(e!.Message, Does.Contain("org/model-one").And.Contain("org/model-two").And.Contain("'a'").And.Contain("'b'"));
        // one side unknown is fine
        using var ok = Compose("a + b", Named(("a", NewLora("a2", baseModel: null)), ("b", NewLora("b2", baseModel: "org/model-two"))));
        Assert.That(ok.Adapter.Config.BaseModelNameOrPath, Is.EqualTo("org/model-two"));
    }

    [Test]
    public void DifferentTargets_WithoutUnion_NameTheModule()
    {
        var e = Assert.Throws<ArgumentException>(() => Compose("a + b", Named(("a", NewLora("a")), ("b", NewLora("b", targets: OddTargets.Take(2))))));
        Assert.That(e!.Message, Does.Contain("'b' lacks " + OddTargets[2].Path).And.Contain("UnionTargets"));
    }

    [TestCase(CompositionMethod.Paper)]
    [TestCase(CompositionMethod.Linear)]
    [TestCase(CompositionMethod.Ties)]
    [TestCase(CompositionMethod.DareTies)]
    [TestCase(CompositionMethod.MagnitudePrune)]
    public void RankMismatch_IsRefusedForElementwiseMethods(CompositionMethod method)
    {
        var adapters = Named(("a", NewLora("a", r: 2)), ("b", NewLora("b", r: 2, rankPattern: new Dictionary<string, int> { ["v_proj"] = 3 })));
        var e = Assert.Throws<ArgumentException>(() => Compose("0.5*a + 0.5*b", adapters, new CompositionOptions { Method = method, Density = 0.5 }));
        Assert.That(e!.Message, Does.Contain(OddTargets[1].Path).And.Contain("rank 2 in 'a'").And.Contain("rank 3 in 'b'").And.Contain("exact"));
        foreach (var ok in new[] { CompositionMethod.Exact, CompositionMethod.Cat, CompositionMethod.Svd })
        {
            using var r = Compose("0.5*a + 0.5*b", adapters, new CompositionOptions { Method = ok });
            Assert.That(r.Adapter.ModuleCount, Is.EqualTo(3));
        }
    }

    [TestCase(0.0)]
    [TestCase(-0.5)]
    [TestCase(1.5)]
    [TestCase(double.NaN)]
    public void BadDensity_IsRefused(double density)
    {
        var adapters = Named(("a", NewLora("a")));
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => Compose("a", adapters, new CompositionOptions { Method = CompositionMethod.Ties, Density = density }));
        Assert.That(e!.Message, Does.Contain("density"));
    }

    [TestCase(0)]
    [TestCase(-3)]
    public void RankBelowOne_IsRefused(int rank)
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => Compose("a", Named(("a", NewLora("a"))), new CompositionOptions { Method = CompositionMethod.Svd, Rank = rank }));
        Assert.That(e!.Message, Does.Contain("rank"));
    }

    [TestCase(-0.1)]
    [TestCase(1.1)]
    public void BadSvdClamp_IsRefused(double clamp) =>
        Assert.Throws<ArgumentOutOfRangeException>(() => Compose("a", Named(("a", NewLora("a"))), new CompositionOptions { Method = CompositionMethod.Svd, SvdClamp = clamp }));

    [TestCase(CompositionMethod.Ties)]
    [TestCase(CompositionMethod.Svd)]
    [TestCase(CompositionMethod.Cat)]
    public void Ia3_WithALoraOnlyMethod_IsRefused(CompositionMethod method)
    {
        var ia3 = Keep(Ia3(RandomTensors.For("ia3"), OddTargets));
        var e = Assert.Throws<ArgumentException>(() => Compose("0.5*i", Named(("i", ia3)), new CompositionOptions { Method = method }));
        Assert.That(e!.Message, Does.Contain(method.Name()).And.Contain("paper, exact or linear"));
    }

    [Test]
    public void FanInFanOutMismatch_IsRefused()
    {
        var e = Assert.Throws<ArgumentException>(() => Compose("a + b", Named(("a", NewLora("a")), ("b", NewLora("b", fanInFanOut: true)))));
        Assert.That(e!.Message, Does.Contain("fan_in_fan_out"));
    }

    [Test]
    public void ShapeMismatch_NamesTheModule()
    {
        var other = OddTargets.Select(t => t with { In = t.In + 1 }).ToArray();
        var e = Assert.Throws<ArgumentException>(() => Compose("a + b", Named(("a", NewLora("a")), ("b", NewLora("b", targets: other)))));
        Assert.That(e!.Message, Does.Contain(OddTargets[0].Path).And.Contain("'b'"));
    }

    [Test]
    public void DisposedAdapter_IsRefused()
    {
        var a = NewLora("a");
        a.Dispose();
        Assert.Throws<ObjectDisposedException>(() => Compose("a", Named(("a", a))));
    }

    [Test]
    public void ExtraTensors_AreRefused()
    {
        var config = AdapterConfig.CreateLora(2, 2, ModuleSelector.FromNames(["q_proj"]));
        var module = LoraModule.FromConfig(config, OddTargets[0].Path,
            RandomTensors.Create(new Random(1), DType.F32, [2, 13]), RandomTensors.Create(new Random(2), DType.F32, [7, 2]));
        var head = new AdapterExtraTensor("base_model.model.score.weight", "score.weight", AdapterExtraTensorKind.ModulesToSave,
            RandomTensors.Create(new Random(3), DType.F32, [3, 3]));
        var a = Keep(PeftAdapter.Create(config, [module], extraTensors: [head]));
        var e = Assert.Throws<ArgumentException>(() => Compose("a", Named(("a", a))));
        Assert.That(e!.Message, Does.Contain("score.weight"));
    }

    [Test]
    public void NullArguments_AreRefused()
    {
        Assert.Throws<ArgumentNullException>(() => AdapterComposer.Compose(null!, Named()));
        Assert.Throws<ArgumentNullException>(() => AdapterComposer.Compose(ModuleExpression.Parse("a"), null!));
    }
}
