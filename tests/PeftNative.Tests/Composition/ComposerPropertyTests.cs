using MathNet.Numerics.LinearAlgebra;
using PeftNative.Adapters;
using PeftNative.Composition;
using static PeftNative.Tests.Composition.ComposerTestKit;

namespace PeftNative.Tests.Composition;

/// <summary>
/// Algebraic properties of the composer on random small adapters (seeded loops over odd shapes,
/// ranks 1..7 and the three dtypes), each against a float64 reference written here.
/// </summary>
[TestFixture]
public class ComposerPropertyTests
{
    private static readonly DType[] DTypes = [DType.F32, DType.BF16, DType.F16];

    private static IEnumerable<TestCaseData> Seeds()
    {
        foreach (var dtype in DTypes)
            for (int seed = 0; seed < 4; seed++)
                yield return new TestCaseData(dtype, seed).SetArgDisplayNames(dtype.ToString(), $"seed{seed}");
    }

    private static Random Rng(string test, DType dtype, int seed) => RandomTensors.For($"{test}/{dtype}/{seed}");

    [TestCaseSource(nameof(Seeds))]
    public void Paper_LoraNegation_IsAnInvolution_BitExact(DType dtype, int seed)
    {
        var rng = Rng(nameof(Paper_LoraNegation_IsAnInvolution_BitExact), dtype, seed);
        using var a = Lora(rng, OddTargets, r: 1 + seed, alpha: 3 + seed, dtype);
        using var once = Compose("-a", Named(("a", a)));
        using var twice = Compose("-x", Named(("x", once.Adapter)));
        foreach (var m in a.LoraModules.Values)
        {
            var n1 = once.Adapter.LoraModules[m.ModulePath];
            AssertBitEqual(n1.A, m.A, $"{m.ModulePath} A of -a");
            Assert.That(RandomTensors.ToDoubles(n1.B), Is.EqualTo(RandomTensors.ToDoubles(m.B).Select(v => -v).ToArray()), $"{m.ModulePath}: B of -a is -B");
            var n2 = twice.Adapter.LoraModules[m.ModulePath];
            AssertBitEqual(n2.A, m.A, $"{m.ModulePath} A of -(-a)");
            AssertBitEqual(n2.B, m.B, $"{m.ModulePath} B of -(-a)");
            Assert.That(n2.Scaling, Is.EqualTo(m.Scaling));
        }
        Assert.That(twice.Adapter.Config.LoraAlpha, Is.EqualTo(a.Config.LoraAlpha));
    }

    [TestCaseSource(nameof(Seeds))]
    public void Paper_Ia3Negation_IsAnInvolution_BitExact(DType dtype, int seed)
    {
        // 2 - (2 - l) == l exactly whenever 2 - l is representable: l in [1, 4] (Sterbenz). Below 1,
        // 2 - l may round (its ulp is larger than l's), so the round trip is checked to a tolerance.
        var rng = Rng(nameof(Paper_Ia3Negation_IsAnInvolution_BitExact), dtype, seed);
        using var l = Ia3(rng, OddTargets, lo: 1.0, hi: 4.0, dtype);
        using var once = Compose("-l", Named(("l", l)));
        using var twice = Compose("-n", Named(("n", once.Adapter)));
        foreach (var m in l.Ia3Modules.Values)
        {
            var v = RandomTensors.ToDoubles(m.Vector);
            var neg = RandomTensors.ToDoubles(once.Adapter.Ia3Modules[m.ModulePath].Vector);
            Assert.That(neg, Is.EqualTo(v.Select(x => 2 - x).ToArray()), $"{m.ModulePath}: -l is 2 - l");
            AssertBitEqual(twice.Adapter.Ia3Modules[m.ModulePath].Vector, m.Vector, m.ModulePath);
        }

        using var low = Ia3(rng, OddTargets, lo: 0.5, hi: 1.0, dtype);
        using var lowOnce = Compose("-l", Named(("l", low)));
        using var lowTwice = Compose("-n", Named(("n", lowOnce.Adapter)));
        foreach (var m in low.Ia3Modules.Values)
        {
            var v = RandomTensors.ToDoubles(m.Vector);
            var back = RandomTensors.ToDoubles(lowTwice.Adapter.Ia3Modules[m.ModulePath].Vector);
            for (int i = 0; i < v.Length; i++)
                Assert.That(back[i], Is.EqualTo(v[i]).Within(2 * Tolerances.Ulp(dtype, 2.0)), $"{m.ModulePath}[{i}]");
        }
    }

    [TestCaseSource(nameof(Seeds))]
    public void AMinusA_IsAZeroUpdate(DType dtype, int seed)
    {
        var rng = Rng(nameof(AMinusA_IsAZeroUpdate), dtype, seed);
        using var a = Lora(rng, OddTargets, r: 2 + seed, alpha: 5, dtype);
        using var paper = Compose("a - a", Named(("a", a)));
        using var exact = Compose("a - a", Named(("a", a)), new CompositionOptions { Method = CompositionMethod.Exact });
        foreach (var m in a.LoraModules.Values)
        {
            // paper: B = 1*B - 1*B = 0 exactly; A = |1| A + |-1| A = 2A
            Assert.That(RandomTensors.ToDoubles(paper.Adapter.LoraModules[m.ModulePath].B), Is.All.EqualTo(0.0), m.ModulePath);
            var dense = Dense(exact.Adapter.LoraModules[m.ModulePath]);
            Assert.That(dense.FrobeniusNorm(), Is.LessThanOrEqualTo(1e-12 * Dense(m).FrobeniusNorm() + 1e-300), $"{m.ModulePath}: exact a - a");
            Assert.That(exact.Adapter.LoraModules[m.ModulePath].Rank, Is.EqualTo(2 * m.Rank));
        }
    }

    [TestCaseSource(nameof(Seeds))]
    public void Exact_EqualsTheDenseSum(DType dtype, int seed)
    {
        var rng = Rng(nameof(Exact_EqualsTheDenseSum), dtype, seed);
        // different ranks, alphas, rsLoRA and a rank/alpha pattern: every s_i differs
        using var a = Lora(rng, OddTargets, r: 3, alpha: 8, dtype, rankPattern: new Dictionary<string, int> { ["v_proj"] = 5 });
        using var b = Lora(rng, OddTargets, r: 1 + seed, alpha: 2, dtype, rsLora: true, alphaPattern: new Dictionary<string, double> { ["q_proj"] = 0.5 });
        using var c = Lora(rng, OddTargets, r: 7, alpha: 7, dtype);
        double[] w = [0.8, -1.3, 0.25];
        using var result = Compose("0.8*a - 1.3*b + 0.25*c", Named(("a", a), ("b", b), ("c", c)), new CompositionOptions { Method = CompositionMethod.Exact });
        Assert.That(result.Warnings, Is.Empty);
        Assert.That(result.Adapter.Config.UseRsLora, Is.False);
        foreach (var t in OddTargets)
        {
            var expected = w[0] * Dense(a.LoraModules[t.Path]) + w[1] * Dense(b.LoraModules[t.Path]) + w[2] * Dense(c.LoraModules[t.Path]);
            var got = result.Adapter.LoraModules[t.Path];
            Assert.That(got.Rank, Is.EqualTo(a.LoraModules[t.Path].Rank + b.LoraModules[t.Path].Rank + 7), t.Path);
            Assert.That(got.Scaling, Is.EqualTo(1.0), t.Path);
            Assert.That(got.A.DType, Is.EqualTo(dtype));
            // B holds c_i s_i B_i rounded once to the dtype; A is copied
            Assert.That(RelativeError(Dense(got), expected), Is.LessThan(Tolerances.NormalisedBound(dtype, 3) * 4), t.Path);
        }
    }

    [TestCaseSource(nameof(Seeds))]
    public void Svd_AtFullRank_EqualsExact(DType dtype, int seed)
    {
        var rng = Rng(nameof(Svd_AtFullRank_EqualsExact), dtype, seed);
        using var a = Lora(rng, OddTargets, r: 2, alpha: 4, dtype);
        using var b = Lora(rng, OddTargets, r: 3, alpha: 1.5, dtype);
        var adapters = Named(("a", a), ("b", b));
        using var exact = Compose("0.6*a - 0.9*b", adapters, new CompositionOptions { Method = CompositionMethod.Exact });
        using var svd = Compose("0.6*a - 0.9*b", adapters, new CompositionOptions { Method = CompositionMethod.Svd, Rank = 5 });
        foreach (var t in OddTargets)
        {
            var reference = 0.6 * Dense(a.LoraModules[t.Path]) - 0.9 * Dense(b.LoraModules[t.Path]);
            var got = svd.Adapter.LoraModules[t.Path];
            Assert.That(got.Rank, Is.EqualTo(Math.Min(5, Math.Min(t.In, t.Out))), t.Path);
            Assert.That(RelativeError(Dense(got), Dense(exact.Adapter.LoraModules[t.Path])), Is.LessThan(Tolerances.NormalisedBound(dtype, 2) * 8), t.Path);
            Assert.That(RelativeError(Dense(got), reference), Is.LessThan(Tolerances.NormalisedBound(dtype, 2) * 8), t.Path);
        }
    }

    [TestCaseSource(nameof(Seeds))]
    public void Paper_TwoCopiesOfOneAdapter_ReturnIt(DType dtype, int seed)
    {
        var rng = Rng(nameof(Paper_TwoCopiesOfOneAdapter_ReturnIt), dtype, seed);
        using var a = Lora(rng, OddTargets, r: 1 + seed, alpha: 16, dtype);
        using var copy = CopyOf(a);
        using var result = Compose("a + b", Named(("a", a), ("b", copy)));
        Assert.That(result.Terms.Select(t => t.Coefficient), Is.EqualTo(new[] { 0.5, 0.5 }));
        Assert.That(result.Warnings, Has.Member(AdapterComposer.NormalisationWarning));
        foreach (var m in a.LoraModules.Values)
        {
            AssertBitEqual(result.Adapter.LoraModules[m.ModulePath].A, m.A, m.ModulePath);
            AssertBitEqual(result.Adapter.LoraModules[m.ModulePath].B, m.B, m.ModulePath);
        }
        Assert.That(result.Adapter.Config.LoraAlpha, Is.EqualTo(16));
        Assert.That(result.Adapter.Config.R, Is.EqualTo(1 + seed));
    }

    [TestCaseSource(nameof(Seeds))]
    public void Paper_Analogy_FollowsDesign(DType dtype, int seed)
    {
        var rng = Rng(nameof(Paper_Analogy_FollowsDesign), dtype, seed);
        using var c = Lora(rng, OddTargets, r: 4, alpha: 8, dtype);
        using var x = Lora(rng, OddTargets, r: 4, alpha: 8, dtype);
        using var y = Lora(rng, OddTargets, r: 4, alpha: 8, dtype);
        using var result = Compose("0.7*c + 0.3*(x - y)", Named(("c", c), ("x", x), ("y", y)));
        Assert.That(result.Warnings, Is.Empty, "a negative coefficient: no normalisation, no folding");
        foreach (var t in OddTargets)
        {
            var got = result.Adapter.LoraModules[t.Path];
            var (mc, mx, my) = (c.LoraModules[t.Path], x.LoraModules[t.Path], y.LoraModules[t.Path]);
            AssertCombination(got.A, [(0.7, mc.A), (0.3, mx.A), (0.3, my.A)], dtype, $"{t.Path} A");
            AssertCombination(got.B, [(0.7, mc.B), (0.3, mx.B), (-0.3, my.B)], dtype, $"{t.Path} B");
            Assert.That(got.Scaling, Is.EqualTo(2.0));
        }
    }

    [TestCaseSource(nameof(Seeds))]
    public void Paper_OneScaledTerm_ScalesTheUpdate(DType dtype, int seed)
    {
        var rng = Rng(nameof(Paper_OneScaledTerm_ScalesTheUpdate), dtype, seed);
        using var m = Lora(rng, OddTargets, r: 3, alpha: 6, dtype);
        using var result = Compose("-0.6*m", Named(("m", m)));
        foreach (var t in OddTargets)
        {
            var got = result.Adapter.LoraModules[t.Path];
            AssertCombination(got.A, [(0.6, m.LoraModules[t.Path].A)], dtype, $"{t.Path} A = |c| A");
            using (var negated = Negated(m.LoraModules[t.Path].B))
                AssertBitEqual(got.B, negated, $"{t.Path} B = sign(c) B");
            Assert.That(RelativeError(Dense(got), -0.6 * Dense(m.LoraModules[t.Path])), Is.LessThan(Tolerances.NormalisedBound(dtype, 1) * 2));
        }
    }

    [TestCaseSource(nameof(Seeds))]
    public void Ia3_ScaledNegationAndAverage(DType dtype, int seed)
    {
        var rng = Rng(nameof(Ia3_ScaledNegationAndAverage), dtype, seed);
        using var m = Ia3(rng, OddTargets, dtype: dtype);
        using var other = Ia3(rng, OddTargets, dtype: dtype);
        var adapters = Named(("m", m), ("o", other));
        using var neg = Compose("-m", adapters);
        using var scaled = Compose("-0.6*m", adapters);
        using var average = Compose("m + o", adapters);
        foreach (var t in OddTargets)
        {
            var l = RandomTensors.ToDoubles(m.Ia3Modules[t.Path].Vector);
            var lo = RandomTensors.ToDoubles(other.Ia3Modules[t.Path].Vector);
            AssertValues(neg.Adapter.Ia3Modules[t.Path].Vector, l.Select(v => 2 - v).ToArray(), dtype, "-m = 2 - l");
            AssertValues(scaled.Adapter.Ia3Modules[t.Path].Vector, l.Select(v => 1.6 - (0.6 * v)).ToArray(), dtype, "-0.6*m = 1.6 - 0.6 l");
            AssertValues(average.Adapter.Ia3Modules[t.Path].Vector, l.Zip(lo, (p, q) => (0.5 * p) + (0.5 * q)).ToArray(), dtype, "(m + o) / 2");
            Assert.That(average.Adapter.Ia3Modules[t.Path].IsFeedForward, Is.EqualTo(m.Ia3Modules[t.Path].IsFeedForward));
        }
        Assert.That(average.Adapter.Config.FeedforwardModules!.Names, Is.EqualTo(new[] { "down_proj" }));
    }

    [Test]
    public void Paper_DifferentScalings_AreFoldedIntoB()
    {
        var rng = RandomTensors.For(nameof(Paper_DifferentScalings_AreFoldedIntoB));
        using var a = Lora(rng, OddTargets, r: 4, alpha: 8);
        using var b = Lora(rng, OddTargets, r: 4, alpha: 2);
        using var result = Compose("0.5*a + 0.5*b", Named(("a", a), ("b", b)));
        Assert.That(result.Warnings, Has.Some.StartsWith("scalings folded"));
        var cfg = result.Adapter.Config;
        Assert.That((cfg.R, cfg.LoraAlpha, cfg.UseRsLora), Is.EqualTo((4, 4.0, false)));
        foreach (var t in OddTargets)
        {
            var (ma, mb) = (a.LoraModules[t.Path], b.LoraModules[t.Path]);
            // the paper's formula on the scaled factors: (0.5 s_a B_a + 0.5 s_b B_b)(0.5 A_a + 0.5 A_b)
            var expected = (0.5 * Matrix(ma.B, ma.Scaling) + 0.5 * Matrix(mb.B, mb.Scaling)) * (0.5 * Matrix(ma.A) + 0.5 * Matrix(mb.A));
            Assert.That(RelativeError(Dense(result.Adapter.LoraModules[t.Path]), expected), Is.LessThan(1e-6), t.Path);
        }
    }

    [Test]
    public void Paper_SharedRsLora_IsKept()
    {
        var rng = RandomTensors.For(nameof(Paper_SharedRsLora_IsKept));
        using var a = Lora(rng, OddTargets, r: 4, alpha: 6, rsLora: true, alphaPattern: new Dictionary<string, double> { ["v_proj"] = 3 });
        using var b = Lora(rng, OddTargets, r: 4, alpha: 6, rsLora: true, alphaPattern: new Dictionary<string, double> { ["v_proj"] = 3 });
        using var result = Compose("a - 0.5*b", Named(("a", a), ("b", b)));
        Assert.That(result.Warnings, Is.Empty);
        var cfg = result.Adapter.Config;
        Assert.That((cfg.UseRsLora, cfg.LoraAlpha), Is.EqualTo((true, 6.0)));
        foreach (var t in OddTargets)
            Assert.That(result.Adapter.LoraModules[t.Path].Scaling, Is.EqualTo(a.LoraModules[t.Path].Scaling), t.Path);
    }

    [Test]
    public void Paper_RsLoraMixedWithPlain_IsFoldedAndNotOverScaled()
    {
        // PEFT copies use_rslora from the first adapter while writing lora_alpha = r, so its output
        // scales by sqrt(r) instead of 1 (huggingface/peft#3449). Here the output has s = 1 and the
        // update matches the folded formula.
        var rng = RandomTensors.For(nameof(Paper_RsLoraMixedWithPlain_IsFoldedAndNotOverScaled));
        using var a = Lora(rng, OddTargets, r: 4, alpha: 8, rsLora: true);
        using var b = Lora(rng, OddTargets, r: 4, alpha: 8);
        using var result = Compose("a - b", Named(("a", a), ("b", b)));
        var cfg = result.Adapter.Config;
        Assert.That((cfg.UseRsLora, cfg.LoraAlpha, cfg.R), Is.EqualTo((false, 4.0, 4)));
        foreach (var t in OddTargets)
        {
            var (ma, mb) = (a.LoraModules[t.Path], b.LoraModules[t.Path]);
            var expected = (Matrix(ma.B, ma.Scaling) - Matrix(mb.B, mb.Scaling)) * (Matrix(ma.A) + Matrix(mb.A));
            Assert.That(RelativeError(Dense(result.Adapter.LoraModules[t.Path]), expected), Is.LessThan(1e-6), t.Path);
        }
    }

    [Test]
    public void Exact_UnionTargets_WritesRankPatternsThatReload()
    {
        var rng = RandomTensors.For(nameof(Exact_UnionTargets_WritesRankPatternsThatReload));
        using var a = Lora(rng, OddTargets.Take(2), r: 2, alpha: 4);
        using var b = Lora(rng, OddTargets.Skip(1), r: 3, alpha: 3);
        var adapters = Named(("a", a), ("b", b));
        Assert.Throws<ArgumentException>(() => Compose("a + b", adapters, new CompositionOptions { Method = CompositionMethod.Exact }));
        using var result = Compose("a + b", adapters, new CompositionOptions { Method = CompositionMethod.Exact, UnionTargets = true });
        Assert.That(result.Warnings, Has.Some.Contains("'b' lacks 1 of 3 modules"));
        Assert.That(result.Warnings, Has.Some.Contains("'a' lacks 1 of 3 modules"));
        var ranks = OddTargets.Select(t => result.Adapter.LoraModules[t.Path].Rank).ToArray();
        Assert.That(ranks, Is.EqualTo(new[] { 2, 5, 3 }));
        foreach (var t in OddTargets)
        {
            var expected = Dense(a, t.Path, t.Out, t.In) + Dense(b, t.Path, t.Out, t.In);
            Assert.That(RelativeError(Dense(result.Adapter.LoraModules[t.Path]), expected), Is.LessThan(1e-6), t.Path);
        }
        string dir = Directory.CreateTempSubdirectory("peftnative-compose-").FullName;
        try
        {
            result.Save(Path.Combine(dir, "out"));
            using var loaded = PeftAdapter.Load(Path.Combine(dir, "out"));
            Assert.That(OddTargets.Select(t => loaded.LoraModules[t.Path].Rank), Is.EqualTo(ranks));
            Assert.That(OddTargets.Select(t => loaded.LoraModules[t.Path].Scaling), Is.All.EqualTo(1.0));
            Assert.That(loaded.Config.TargetModules.Names, Is.EquivalentTo(new[] { "q_proj", "v_proj", "down_proj" }));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Test]
    public void Paper_UnionTargets_MissingModuleHasZeroFactors()
    {
        var rng = RandomTensors.For(nameof(Paper_UnionTargets_MissingModuleHasZeroFactors));
        using var a = Lora(rng, OddTargets, r: 2, alpha: 2);
        using var b = Lora(rng, OddTargets.Take(2), r: 2, alpha: 2);
        using var result = Compose("a + b", Named(("a", a), ("b", b)), new CompositionOptions { UnionTargets = true });
        var only = OddTargets[2];
        var got = result.Adapter.LoraModules[only.Path];
        // b counts as A = 0, B = 0 there: A = 0.5 A_a, B = 0.5 B_a
        AssertCombination(got.A, [(0.5, a.LoraModules[only.Path].A)], DType.F32, "A");
        AssertCombination(got.B, [(0.5, a.LoraModules[only.Path].B)], DType.F32, "B");
    }

    [Test]
    public void Ia3_UnionTargets_MissingModuleIsIdentity()
    {
        var rng = RandomTensors.For(nameof(Ia3_UnionTargets_MissingModuleIsIdentity));
        using var a = Ia3(rng, OddTargets);
        using var b = Ia3(rng, OddTargets.Take(2));
        using var result = Compose("a + b", Named(("a", a), ("b", b)), new CompositionOptions { UnionTargets = true });
        // PEFT would give 0.5 l_a (shrinking activations); with l_b = 1 the rule gives 1 + 0.5 (l_a - 1)
        var only = OddTargets[2].Path;
        var la = RandomTensors.ToDoubles(a.Ia3Modules[only].Vector);
        AssertValues(result.Adapter.Ia3Modules[only].Vector, la.Select(v => 0.5 + (0.5 * v)).ToArray(), DType.F32, "missing = 1");
    }

    [TestCase(DType.F32, DType.BF16)]
    [TestCase(DType.BF16, DType.F16)]
    public void MixedDTypes_GiveF32(DType first, DType second)
    {
        var rng = RandomTensors.For($"{nameof(MixedDTypes_GiveF32)}/{first}/{second}");
        using var a = Lora(rng, OddTargets, r: 2, alpha: 2, first);
        using var b = Lora(rng, OddTargets, r: 2, alpha: 2, second);
        using var result = Compose("0.3*a - 0.2*b", Named(("a", a), ("b", b)));
        foreach (var t in OddTargets)
        {
            var got = result.Adapter.LoraModules[t.Path];
            Assert.That(got.A.DType, Is.EqualTo(DType.F32));
            AssertCombination(got.B, [(0.3, a.LoraModules[t.Path].B), (-0.2, b.LoraModules[t.Path].B)], DType.F32, t.Path);
        }
    }

    [Test]
    public void NonFiniteResult_IsRefusedNamingTheModule_UnlessAllowed()
    {
        var rng = RandomTensors.For(nameof(NonFiniteResult_IsRefusedNamingTheModule_UnlessAllowed));
        using var a = Lora(rng, OddTargets, r: 2, alpha: 2);
        var target = a.LoraModules[OddTargets[1].Path];
        RandomTensors.Set(target.B, 3, double.NaN);
        var adapters = Named(("a", a));
        foreach (var method in new[] { CompositionMethod.Paper, CompositionMethod.Exact, CompositionMethod.Cat })
        {
            var e = Assert.Throws<InvalidDataException>(() => Compose("0.5*a", adapters, new CompositionOptions { Method = method }));
            Assert.That(e!.Message, Does.Contain(OddTargets[1].Path).And.Contain("lora_B"), method.Name());
        }
        using var allowed = Compose("0.5*a", adapters, new CompositionOptions { AllowNonFinite = true });
        Assert.That(double.IsNaN(RandomTensors.Get(allowed.Adapter.LoraModules[OddTargets[1].Path].B, 3)), Is.True);
    }

    [Test]
    public void Progress_IsReportedPerModule_AndCancellationStops()
    {
        var rng = RandomTensors.For(nameof(Progress_IsReportedPerModule_AndCancellationStops));
        using var a = Lora(rng, OddTargets, r: 2, alpha: 2);
        var seen = new List<double>();
        using (AdapterComposer.Compose(ModuleExpression.Parse("-a"), Named(("a", a)), null, new SynchronousProgress(seen.Add)))
            Assert.That(seen, Is.EqualTo(new[] { 1.0 / 3, 2.0 / 3, 1.0 }));

        using var cts = new CancellationTokenSource();
        var progress = new SynchronousProgress(p =>
        {
            if (p > 0.5)
                cts.Cancel();
        });
        Assert.Throws<OperationCanceledException>(() =>
            AdapterComposer.Compose(ModuleExpression.Parse("-a"), Named(("a", a)), null, progress, cts.Token));
    }

    private sealed class SynchronousProgress(Action<double> report) : IProgress<double>
    {
        public void Report(double value) => report(value);
    }

    private static Tensor Negated(Tensor t)
    {
        var n = Tensor.Allocate(t.DType, t.Shape.ToArray());
        for (long i = 0; i < t.ElementCount; i++)
            RandomTensors.Set(n, i, -RandomTensors.Get(t, i));
        return n;
    }

    /// <summary>got ≈ sum_i c_i x_i, element by element, within the dtype's rounding of one f32 accumulation.</summary>
    private static void AssertCombination(Tensor got, (double C, Tensor X)[] terms, DType dtype, string context)
    {
        var g = RandomTensors.ToDoubles(got);
        var xs = terms.Select(t => RandomTensors.ToDoubles(t.X)).ToArray();
        for (int j = 0; j < g.Length; j++)
        {
            double expected = 0, magnitude = 0;
            for (int i = 0; i < terms.Length; i++)
            {
                expected += terms[i].C * xs[i][j];
                magnitude += Math.Abs(terms[i].C * xs[i][j]);
            }
            double allowed = Tolerances.Allowed(got.DType, expected, magnitude, terms.Length);
            if (Math.Abs(g[j] - expected) > allowed)
                Assert.Fail($"{context} [{j}] ({dtype}): expected {expected:R}, got {g[j]:R} (allowed {allowed:E2})");
        }
    }

    private static void AssertValues(Tensor got, double[] expected, DType dtype, string context)
    {
        var g = RandomTensors.ToDoubles(got);
        for (int j = 0; j < g.Length; j++)
        {
            double allowed = Tolerances.Allowed(dtype, expected[j], Math.Abs(expected[j]) + 2, 2);
            if (Math.Abs(g[j] - expected[j]) > allowed)
                Assert.Fail($"{context} [{j}] ({dtype}): expected {expected[j]:R}, got {g[j]:R}");
        }
    }
}
