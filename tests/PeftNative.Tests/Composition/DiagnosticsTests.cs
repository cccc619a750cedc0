using System.Text.Json;
using PeftNative.Adapters;
using PeftNative.Composition;
using PeftNative.Composition.Diagnostics;
using static PeftNative.Tests.Composition.DiagnosticsTestAdapters;

namespace PeftNative.Tests.Composition;

/// <summary>
/// Composition diagnostics against float64 dense references formed in the test (every update s B A
/// as a full matrix): per-module norms, cosines (per module and overall), the paper method's
/// cross-term error, and the A-factor heuristic — on odd shapes, different ranks, different
/// scalings and modules missing from some adapters.
/// </summary>
public class DiagnosticsTests
{
    private const string Q = "m.layers.0.q_proj";
    private const string V = "m.layers.0.v_proj";
    private const string O = "m.layers.1.o_proj";

    /// <summary>Module shapes: odd sizes, a single output row, a tall-thin weight.</summary>
    private static readonly (string Path, int Out, int In)[] Shapes = [(Q, 37, 29), (V, 1, 61), (O, 50, 6)];

    private static PeftAdapter Make(string seed, int rank, double alpha, string[] modules, DType dtype = DType.F32, bool rsLora = false)
    {
        var rng = RandomTensors.For(seed);
        return Lora(rank, alpha, Shapes.Where(s => modules.Contains(s.Path))
            .Select(s => new Factors(s.Path, DiagnosticsTestAdapters.Random(rng, s.Out, rank), DiagnosticsTestAdapters.Random(rng, rank, s.In))), dtype, rsLora);
    }

    /// <summary>a: r 3, all modules; b: r 3, other alpha (scaling), bf16, no o_proj; c: r 5 rsLoRA, no v_proj; d: r 3, all modules.</summary>
    private static Dictionary<string, PeftAdapter> Set() => new()
    {
        ["a"] = Make("a", 3, 6, [Q, V, O]),
        ["b"] = Make("b", 3, 3, [Q, V], DType.BF16),
        ["c"] = Make("c", 5, 10, [Q, O], rsLora: true),
        ["d"] = Make("d", 3, 12, [Q, V, O], DType.F16),
    };

    private static void DisposeAll(Dictionary<string, PeftAdapter> set)
    {
        foreach (var a in set.Values)
            a.Dispose();
    }

    /// <summary>Dense updates per module per adapter (null where missing).</summary>
    private static Dictionary<string, double[,]?[]> DenseUpdates(IReadOnlyList<string> names, Dictionary<string, PeftAdapter> set) =>
        Shapes.ToDictionary(s => s.Path, s => names.Select(n => set[n].LoraModules.TryGetValue(s.Path, out var m) ? DenseUpdate(m) : null).ToArray());

    [Test]
    public void Similarity_MatchesDenseReference_WithDifferentRanksAndMissingModules()
    {
        var set = Set();
        try
        {
            var report = AdapterSimilarity.Compute(set);
            var names = set.Keys.ToList();
            var dense = DenseUpdates(names, set);
            var total = new double[names.Count, names.Count];
            using (Assert.EnterMultipleScope())
            {
                Assert.That(report.Adapters, Is.EqualTo(names));
                Assert.That(report.Modules.Select(m => m.Module), Is.EqualTo(new[] { Q, V, O }));
                foreach (var module in report.Modules)
                {
                    var updates = dense[module.Module];
                    for (int i = 0; i < names.Count; i++)
                    {
                        Assert.That(module.Present[i], Is.EqualTo(updates[i] is not null), $"{module.Module} {names[i]} present");
                        double norm = updates[i] is { } u ? Norm(u) : 0;
                        Assert.That(module.Norms[i], Is.EqualTo(norm).Within(1e-12 * Math.Max(norm, 1)), $"{module.Module} norm of {names[i]}");
                        for (int j = 0; j < names.Count; j++)
                        {
                            double inner = updates[i] is { } x && updates[j] is { } y ? Inner(x, y) : 0;
                            total[i, j] += inner;
                            if (updates[i] is null || updates[j] is null)
                                Assert.That(module.Cosines[i][j], Is.Null, $"{module.Module} cos({names[i]}, {names[j]}) with a missing module");
                            else
                                Assert.That(module.Cosines[i][j], Is.EqualTo(inner / (Norm(updates[i]!) * Norm(updates[j]!))).Within(1e-12), $"{module.Module} cos({names[i]}, {names[j]})");
                        }
                    }
                }
                for (int i = 0; i < names.Count; i++)
                {
                    Assert.That(report.Norms[i], Is.EqualTo(Math.Sqrt(total[i, i])).Within(1e-12 * Math.Sqrt(total[i, i])), $"overall norm {names[i]}");
                    for (int j = 0; j < names.Count; j++)
                        Assert.That(report.Cosines[i][j], Is.EqualTo(total[i, j] / Math.Sqrt(total[i, i] * total[j, j])).Within(1e-12), $"overall cos({names[i]}, {names[j]})");
                }
                Assert.That(report.Cosine("a", "a"), Is.EqualTo(1.0).Within(1e-14));
            }
        }
        finally
        {
            DisposeAll(set);
        }
    }

    [TestCase("0.5*a + 0.5*b", false)]
    [TestCase("0.2*a + 0.3*b + 0.5*d", false)]
    [TestCase("2*a + 1*b", true)]
    [TestCase("a - 0.6*b", false)]
    [TestCase("0.7*d + 0.3*(a - b)", false)]
    [TestCase("0.5*a - 0.5*a + b", false)]
    [TestCase("-0.6*a", false)]
    public void CrossTermError_MatchesDenseReference(string expression, bool rawWeights)
    {
        var set = Set();
        try
        {
            var terms = CoefficientNormalization.Apply(ModuleExpression.Parse(expression).Expand(), rawWeights);
            var report = CompositionDiagnostics.Analyze(terms, set);
            using (Assert.EnterMultipleScope())
            {
                foreach (var (path, _, _) in Shapes)
                {
                    double[,]? bPrime = null, aPrime = null, exact = null;
                    foreach (var t in terms)
                    {
                        if (!set[t.Adapter].LoraModules.TryGetValue(path, out var m))
                            continue;
                        var b = FromTensor(m.B);
                        var a = FromTensor(m.A);
                        bPrime = AddScaled(bPrime, b, t.Coefficient * m.Scaling);
                        aPrime = AddScaled(aPrime, a, Math.Abs(t.Coefficient));
                        exact = AddScaled(exact, MatMul(b, a), t.Coefficient * m.Scaling);
                    }
                    var paper = terms.Count == 1 ? exact! : MatMul(bPrime!, aPrime!);
                    var diff = AddScaled(paper, exact!, -1);
                    var e = report.CrossTermErrors.Single(x => x.Module == path);
                    Assert.That(e.ExactNorm, Is.EqualTo(Norm(exact!)).Within(1e-10 * Norm(exact!)), $"{expression} {path} exact norm");
                    Assert.That(e.PaperNorm, Is.EqualTo(Norm(paper)).Within(1e-10 * Norm(paper)), $"{expression} {path} paper norm");
                    // the Gram route cancels squares: about 1e-8 of the norms is its floor
                    if (Norm(exact!) == 0)
                        Assert.That(e.RelativeError, Is.Null, $"{expression} {path}: no relative error of a zero update");
                    else
                        Assert.That(e.RelativeError, Is.EqualTo(Norm(diff) / Norm(exact!)).Within(1e-7), $"{expression} {path} relative error");
                }
                if (terms.Count == 1)
                    Assert.That(report.OverallCrossTermError, Is.Zero, "one term is exact");
            }
        }
        finally
        {
            DisposeAll(set);
        }
    }

    [TestCase("0.5*a + 0.5*b")]
    [TestCase("a - 0.6*b")]
    [TestCase("0.7*d + 0.3*(a - b)")]
    [TestCase("-0.6*b")]
    public void PaperNorm_IsTheNormOfWhatTheComposerWrites(string expression)
    {
        // b lacks o_proj and has another scaling and dtype: the composer's union-target paper result
        // and the diagnostics' dW_p must be the same update.
        var set = Set();
        try
        {
            using var result = AdapterComposer.Compose(ModuleExpression.Parse(expression), set, new CompositionOptions { UnionTargets = true });
            var report = CompositionDiagnostics.Analyze(result.Terms, set);
            using (Assert.EnterMultipleScope())
            {
                foreach (var e in report.CrossTermErrors)
                {
                    double written = result.Adapter.LoraModules.TryGetValue(e.Module, out var m) ? Norm(DenseUpdate(m)) : 0;
                    // the composer stores factors in a 16-bit dtype here (inputs mix f32, bf16, f16): its rounding, ~1e-4 in the norm
                    Assert.That(e.PaperNorm, Is.EqualTo(written).Within(5e-3 * Math.Max(written, 1e-12)), $"{expression} {e.Module}");
                }
            }
        }
        finally
        {
            DisposeAll(set);
        }
    }

    [Test]
    public void CrossTermError_IsZero_WhenTheAFactorsAreShared()
    {
        // Averaging with one A: A' = 0.5 A + 0.5 A = A and B' = 0.5 (s B_1 + s B_2): exactly the sum.
        var rng = RandomTensors.For("shared-A");
        var a0 = DiagnosticsTestAdapters.Random(rng, 6, 45);
        using var x = Lora(6, 12, [new Factors(Q, DiagnosticsTestAdapters.Random(rng, 33, 6), a0)]);
        using var y = Lora(6, 12, [new Factors(Q, DiagnosticsTestAdapters.Random(rng, 33, 6), a0)]);
        var report = CompositionDiagnostics.Analyze(ModuleExpression.Parse("0.5*x + 0.5*y").Expand(), new Dictionary<string, PeftAdapter> { ["x"] = x, ["y"] = y });
        using (Assert.EnterMultipleScope())
        {
            Assert.That(report.OverallCrossTermError, Is.LessThan(1e-6));
            Assert.That(report.AFactorAlignments.Single().MeanCosine, Is.EqualTo(1.0).Within(1e-12));
            Assert.That(report.Warnings, Is.Empty);
        }
    }

    [Test]
    public void DifferentRanks_HaveNoPaperError_AndAWarning()
    {
        var set = Set();
        try
        {
            var report = CompositionDiagnostics.Analyze(ModuleExpression.Parse("0.5*a + 0.5*c").Expand(), set);
            var q = report.CrossTermErrors.Single(e => e.Module == Q);
            var v = report.CrossTermErrors.Single(e => e.Module == V);
            using (Assert.EnterMultipleScope())
            {
                Assert.That(q.RelativeError, Is.Null);
                Assert.That(q.Note, Does.Contain("ranks differ").And.Contain("a r=3").And.Contain("c r=5"));
                // v_proj: only a has it, so the paper method applies (c's update is zero there)
                Assert.That(v.RelativeError, Is.Not.Null);
                Assert.That(report.Warnings, Has.Some.Contains("ranks differ"));
                Assert.That(report.AFactorAlignments.Single().Modules, Is.Zero, "no module has both with equal ranks");
                Assert.That(report.AFactorAlignments.Single().LooksUnrelated, Is.False, "nothing compared, nothing claimed");
            }
        }
        finally
        {
            DisposeAll(set);
        }
    }

    /// <summary>Two adapters on four 64 x 96 modules, r = 8; A of the second is A of the first plus noise, or independent.</summary>
    private static Dictionary<string, PeftAdapter> Pair(bool sharedInit, double noise)
    {
        var rng = RandomTensors.For($"pair {sharedInit} {noise}");
        var first = new List<Factors>();
        var second = new List<Factors>();
        for (int layer = 0; layer < 4; layer++)
        {
            string path = $"m.layers.{layer}.q_proj";
            // kaiming-uniform-like scale 1/sqrt(in), as PEFT initialises A
            var a0 = DiagnosticsTestAdapters.Random(rng, 8, 96, 1 / Math.Sqrt(96));
            var a1 = sharedInit ? Perturb(a0, DiagnosticsTestAdapters.Random(rng, 8, 96, 1 / Math.Sqrt(96)), noise) : DiagnosticsTestAdapters.Random(rng, 8, 96, 1 / Math.Sqrt(96));
            first.Add(new Factors(path, DiagnosticsTestAdapters.Random(rng, 64, 8), a0));
            second.Add(new Factors(path, DiagnosticsTestAdapters.Random(rng, 64, 8), a1));
        }
        return new Dictionary<string, PeftAdapter> { ["x"] = Lora(8, 16, first), ["y"] = Lora(8, 16, second) };
    }

    [TestCase(0.05)]
    [TestCase(0.3)]
    [TestCase(0.8)]
    public void SharedInitialisation_DoesNotWarn(double noise)
    {
        var set = Pair(sharedInit: true, noise);
        try
        {
            var report = CompositionDiagnostics.Analyze(ModuleExpression.Parse("0.5*x + 0.5*y").Expand(), set);
            var alignment = report.AFactorAlignments.Single();
            using (Assert.EnterMultipleScope())
            {
                // cos = 1 / sqrt(1 + noise^2) for independent noise of A's scale
                Assert.That(alignment.MeanCosine, Is.EqualTo(1 / Math.Sqrt(1 + noise * noise)).Within(0.05));
                Assert.That(alignment.Modules, Is.EqualTo(4));
                Assert.That(alignment.LooksUnrelated, Is.False);
                Assert.That(report.Warnings, Is.Empty);
            }
        }
        finally
        {
            DisposeAll(set);
        }
    }

    [Test]
    public void IndependentInitialisations_Warn()
    {
        var set = Pair(sharedInit: false, 0);
        try
        {
            var report = CompositionDiagnostics.Analyze(ModuleExpression.Parse("0.5*x + 0.5*y").Expand(), set);
            var alignment = report.AFactorAlignments.Single();
            using (Assert.EnterMultipleScope())
            {
                Assert.That(Math.Abs(alignment.MeanCosine!.Value), Is.LessThan(0.1), "independent A: cosine near 0");
                Assert.That(alignment.LooksUnrelated, Is.True);
                // equal-weight average of unrelated adapters: about sqrt(1/2) of the exact sum is cross terms
                Assert.That(report.OverallCrossTermError, Is.InRange(0.5, 0.9));
                Assert.That(report.Warnings, Has.Count.EqualTo(1));
                Assert.That(report.Warnings[0], Does.Contain("'x' and 'y'").And.Contain("look unrelated").And.Contain("--method exact or svd"));
                // the threshold is a setting
                var lenient = CompositionDiagnostics.Analyze(report.Terms, set, new CompositionDiagnosticsOptions { AFactorCosineThreshold = -1 });
                Assert.That(lenient.Warnings, Is.Empty);
            }
        }
        finally
        {
            DisposeAll(set);
        }
    }

    [Test]
    public void Ia3_CosinesOfDeltas_MissingModuleIsIdentity_AndThePaperIsExact()
    {
        var rng = RandomTensors.For("ia3");
        double[] L(int n) => Enumerable.Range(0, n).Select(_ => 1 + RandomTensors.NextSigned(rng, 0.01, 0.5)).ToArray();
        var la = (K: L(7), V: L(5));
        var lb = L(7);
        using var a = Ia3([("m.layers.0.k_proj", la.K), ("m.layers.0.v_proj", la.V)]);
        using var b = Ia3([("m.layers.0.k_proj", lb)]);
        var set = new Dictionary<string, PeftAdapter> { ["a"] = a, ["b"] = b };
        var report = CompositionDiagnostics.Analyze(ModuleExpression.Parse("a - 0.6*b").Expand(), set);
        static double[] Delta(double[] l) => l.Select(x => (double)(float)x - 1).ToArray();
        double Dot(double[] x, double[] y) => x.Zip(y, (p, q) => p * q).Sum();
        var da = (K: Delta(la.K), V: Delta(la.V));
        var db = Delta(lb);
        var k = report.Similarity.Modules.Single(m => m.Module == "m.layers.0.k_proj");
        using (Assert.EnterMultipleScope())
        {
            Assert.That(k.Cosines[0][1], Is.EqualTo(Dot(da.K, db) / Math.Sqrt(Dot(da.K, da.K) * Dot(db, db))).Within(1e-12));
            Assert.That(report.Similarity.Norms[0], Is.EqualTo(Math.Sqrt(Dot(da.K, da.K) + Dot(da.V, da.V))).Within(1e-12));
            Assert.That(report.Similarity.Cosine("a", "b"), Is.EqualTo(Dot(da.K, db) / Math.Sqrt((Dot(da.K, da.K) + Dot(da.V, da.V)) * Dot(db, db))).Within(1e-12));
            Assert.That(report.Similarity.Modules.Single(m => m.Module == "m.layers.0.v_proj").Present, Is.EqualTo(new[] { true, false }));
            Assert.That(report.OverallCrossTermError, Is.Zero);
            Assert.That(report.AFactorAlignments, Is.Empty);
            Assert.That(report.Warnings, Is.Empty);
        }
    }

    [TestCase(1, 1)]
    [TestCase(3, 5)]
    [TestCase(5, 257)]
    [TestCase(7, 300)]
    [TestCase(13, 3)]
    [TestCase(130, 513)]
    public void GramKernel_MatchesPlainDotProducts(int rows, int n)
    {
        var rng = RandomTensors.For($"gram {rows} {n}");
        var x = Enumerable.Range(0, rows * n).Select(_ => rng.NextDouble() - 0.5).ToArray();
        var g = GramMatrix.Compute(x, rows, n);
        for (int a = 0; a < rows; a++)
        {
            for (int b = 0; b < rows; b++)
            {
                double s = 0;
                for (int i = 0; i < n; i++)
                    s += x[a * n + i] * x[b * n + i];
                if (Math.Abs(g[a * rows + b] - s) > 1e-12 * Math.Max(1, Math.Abs(s)))
                    Assert.Fail($"G[{a},{b}] of a {rows} x {n} X: expected {s}, got {g[a * rows + b]}");
            }
        }
    }

    [Test]
    public void BadInputs_AreRefusedWithTheReason()
    {
        var set = Set();
        using var ia3 = Ia3([("m.layers.0.k_proj", [1.1, 0.9])]);
        using var other = Lora(3, 6, [new Factors(Q, DiagnosticsTestAdapters.Random(new Random(1), 36, 3), DiagnosticsTestAdapters.Random(new Random(2), 3, 29))]);
        try
        {
            using (Assert.EnterMultipleScope())
            {
                Assert.That(() => CompositionDiagnostics.Analyze(ModuleExpression.Parse("a + zz").Expand(), set),
                    Throws.ArgumentException.With.Message.Contains("'zz'"));
                Assert.That(() => CompositionDiagnostics.Analyze([], set), Throws.ArgumentException);
                var mixed = new Dictionary<string, PeftAdapter> { ["a"] = set["a"], ["i"] = ia3 };
                Assert.That(() => AdapterSimilarity.Compute(mixed), Throws.ArgumentException.With.Message.Contains("(IA)^3"));
                var shapes = new Dictionary<string, PeftAdapter> { ["a"] = set["a"], ["o"] = other };
                Assert.That(() => AdapterSimilarity.Compute(shapes), Throws.ArgumentException.With.Message.Contains(Q).And.Message.Contains("36x29"));
                Assert.That(() => AdapterSimilarity.Compute(new Dictionary<string, PeftAdapter>()), Throws.ArgumentException);
            }
        }
        finally
        {
            DisposeAll(set);
        }
    }

    [Test]
    public void Json_CarriesTheFigures_AndNullForUndefined()
    {
        var set = Set();
        try
        {
            var report = CompositionDiagnostics.Analyze(ModuleExpression.Parse("0.5*a + 0.5*c").Expand(), set);
            using var doc = JsonDocument.Parse(report.ToJson());
            var root = doc.RootElement;
            var sim = root.GetProperty("similarity");
            using (Assert.EnterMultipleScope())
            {
                Assert.That(root.GetProperty("terms").GetArrayLength(), Is.EqualTo(2));
                Assert.That(sim.GetProperty("adapters").EnumerateArray().Select(e => e.GetString()), Is.EqualTo(new[] { "a", "c" }));
                Assert.That(sim.GetProperty("cosines")[0][1].GetDouble(), Is.EqualTo(report.Similarity.Cosine("a", "c")));
                var modules = sim.GetProperty("modules");
                Assert.That(modules[1].GetProperty("module").GetString(), Is.EqualTo(V));
                Assert.That(modules[1].GetProperty("cosines")[0][1].ValueKind, Is.EqualTo(JsonValueKind.Null), "c lacks v_proj");
                var q = root.GetProperty("cross_term").GetProperty("modules")[0];
                Assert.That(q.GetProperty("relative_error").ValueKind, Is.EqualTo(JsonValueKind.Null));
                Assert.That(q.GetProperty("note").GetString(), Does.Contain("ranks differ"));
                Assert.That(root.GetProperty("warnings").GetArrayLength(), Is.EqualTo(report.Warnings.Count));
                Assert.That(root.GetProperty("a_factor_cosine_threshold").GetDouble(), Is.EqualTo(CompositionDiagnosticsOptions.DefaultAFactorCosineThreshold));
                using var compact = JsonDocument.Parse(report.ToJson(perModule: false));
                Assert.That(compact.RootElement.GetProperty("similarity").TryGetProperty("modules", out _), Is.False);
            }
        }
        finally
        {
            DisposeAll(set);
        }
    }
}
