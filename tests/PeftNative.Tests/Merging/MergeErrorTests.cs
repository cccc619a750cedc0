using System.Diagnostics;
using PeftNative.Adapters;
using PeftNative.Merging;

namespace PeftNative.Tests.Merging;

/// <summary>
/// Every bad input gets a clear exception naming the adapter file, module and model tensor, and
/// leaves no output directory, no temporary sibling and the inputs unchanged; cancellation from
/// the progress callback leaves nothing at all.
/// </summary>
[TestFixture]
public class MergeErrorTests
{
    private string _root = "";
    private string _model = "";
    private Dictionary<string, string> _before = [];

    private static readonly MergeOptions Quiet = new() { Diagnostics = _ => { }, Durable = false };

    [SetUp]
    public void SetUp()
    {
        _root = TestModels.NewDirectory("errors");
        _model = TestModels.Write(Path.Combine(_root, "base"), "llama", TestModels.LlamaShapes(), DType.F32, RandomTensors.For("errors-base"));
        _before = TestModels.Hashes(_model);
    }

    [TearDown]
    public void TearDown() => TestModels.Delete(_root);

    private void AssertNothingWritten(string output)
    {
        Assert.That(Directory.Exists(output), Is.False, "no output directory");
        Assert.That(TestModels.Temporaries(output), Is.Empty, "no temporary sibling");
        Assert.That(TestModels.Hashes(_model), Is.EqualTo(_before), "model unchanged");
    }

    [Test]
    public void AModuleWithNoModelTensor_IsNamed()
    {
        using var adapter = TestModels.Lora(RandomTensors.For("missing"), [("model.layers.0.self_attn.q_proj", 24, 24), ("model.layers.7.self_attn.q_proj", 24, 24)], 2, 2, DType.F32);
        string output = Path.Combine(_root, "out");
        var e = Assert.Throws<AdapterFormatException>(() => ModelMerger.Merge(_model, adapter, output, Quiet))!;
        Assert.That(e.Message, Does.Contain("model.layers.7.self_attn.q_proj").And.Contain("no model tensor"));
        AssertNothingWritten(output);
    }

    [Test]
    public void AModuleOfTheWrongShape_NamesModuleTensorAndShapes()
    {
        using var adapter = TestModels.Lora(RandomTensors.For("shape"), [("model.layers.1.mlp.down_proj", 24, 36)], 2, 2, DType.F32);
        string output = Path.Combine(_root, "out");
        var e = Assert.Throws<AdapterFormatException>(() => ModelMerger.Merge(_model, adapter, output, Quiet))!;
        Assert.That(e.Message, Does.Contain("model.layers.1.mlp.down_proj").And.Contain("'model.layers.1.mlp.down_proj.weight'").And.Contain("[24, 36]").And.Contain("[24, 37]"));
        AssertNothingWritten(output);
    }

    [Test]
    public void AnIa3VectorOfTheWrongLength_IsNamed()
    {
        using var adapter = TestModels.Ia3(RandomTensors.For("ia3-len"), [("model.layers.0.self_attn.k_proj", 24, false)], fanInFanOut: false);
        string output = Path.Combine(_root, "out");
        var e = Assert.Throws<AdapterFormatException>(() => ModelMerger.Merge(_model, adapter, output, Quiet))!;
        Assert.That(e.Message, Does.Contain("k_proj").And.Contain("24 values").And.Contain("12 output features"));
        AssertNothingWritten(output);
    }

    [Test]
    public void AZeroInL_RefusesTheUnmerge_NamingTensorAndIndex()
    {
        using var adapter = TestModels.Ia3(RandomTensors.For("zero"), [("model.layers.0.mlp.down_proj", TestModels.Intermediate, true)], fanInFanOut: false);
        RandomTensors.Set(adapter.Ia3Modules.Values.Single().Vector, 5, 0.0);
        string output = Path.Combine(_root, "out");
        var e = Assert.Throws<AdapterFormatException>(() => ModelMerger.Unmerge(_model, adapter, output, Quiet))!;
        Assert.That(e.Message, Does.Contain("l[5] is 0").And.Contain("model.layers.0.mlp.down_proj.weight").And.Contain("ia3_l"));
        AssertNothingWritten(output);
    }

    [TestCase(true)]
    [TestCase(false)]
    public void ANonFiniteResult_StopsTheMerge_UnlessAllowed(bool allow)
    {
        using var adapter = TestModels.Lora(RandomTensors.For("nan"), [("model.layers.0.self_attn.q_proj", 24, 24), ("model.layers.1.self_attn.q_proj", 24, 24)], 2, 2, DType.F32);
        var a = adapter.LoraModules["model.layers.1.self_attn.q_proj"].A;
        RandomTensors.SetBits(a, 3, RandomTensors.NaNBits(DType.F32)); // column 3 of every row: 24 NaNs
        string output = Path.Combine(_root, "out");
        if (!allow)
        {
            var e = Assert.Throws<NonFiniteMergeException>(() => ModelMerger.Merge(_model, adapter, output, Quiet))!;
            Assert.That(e.TensorName, Is.EqualTo("model.layers.1.self_attn.q_proj.weight"));
            Assert.That(e.Count, Is.EqualTo(24));
            AssertNothingWritten(output);
            return;
        }
        var result = ModelMerger.Merge(_model, adapter, output, Quiet with { AllowNonFinite = true });
        Assert.That(result.NonFiniteCounts, Is.EqualTo(new Dictionary<string, long> { ["model.layers.1.self_attn.q_proj.weight"] = 24 }));
        Assert.That(TestModels.Read(output, "model.layers.1.self_attn.q_proj.weight").Values.Count(double.IsNaN), Is.EqualTo(24));
    }

    [TestCase("model")]
    [TestCase("inside-model")]
    [TestCase("contains-model")]
    [TestCase("link-to-model")]
    [TestCase("inside-adapter")]
    public void AnOutputThatOverlapsAnInput_IsRefused(string where)
    {
        var rng = RandomTensors.For("overlap");
        string adapterDir = Path.Combine(_root, "adapter");
        using (var saved = TestModels.Lora(rng, [("model.layers.0.self_attn.q_proj", 24, 24)], 2, 2, DType.F32))
            saved.Save(adapterDir);
        using var adapter = PeftAdapter.Load(adapterDir);
        string link = Path.Combine(_root, "link");
        Directory.CreateSymbolicLink(link, _model);
        string output = where switch
        {
            "model" => _model,
            "inside-model" => Path.Combine(_model, "merged"),
            "contains-model" => _root,
            "link-to-model" => Path.Combine(link, "sub"),
            _ => Path.Combine(adapterDir, "merged"),
        };
        var adapterBefore = TestModels.Hashes(adapterDir);
        var e = Assert.Throws<ArgumentException>(() => ModelMerger.Merge(_model, adapter, output, Quiet))!;
        Assert.That(e.Message, Does.Contain("inputs are never written to"));
        Assert.That(TestModels.Hashes(_model), Is.EqualTo(_before));
        Assert.That(TestModels.Hashes(adapterDir), Is.EqualTo(adapterBefore));
        Assert.That(Directory.Exists(Path.Combine(_model, "merged")) || Directory.Exists(Path.Combine(adapterDir, "merged")), Is.False);
    }

    [Test]
    public void AnExistingDirectoryThatIsNoMergeOutput_IsLeftAlone()
    {
        using var adapter = TestModels.Lora(RandomTensors.For("exists"), [("model.layers.0.self_attn.q_proj", 24, 24)], 2, 2, DType.F32);
        string output = Path.Combine(_root, "out");
        Directory.CreateDirectory(output);
        File.WriteAllText(Path.Combine(output, "notes.txt"), "mine");
        var e = Assert.Throws<IOException>(() => ModelMerger.Merge(_model, adapter, output, Quiet))!;
        Assert.That(e.Message, Does.Contain("not a PeftNative merge output"));
        Assert.That(Directory.GetFileSystemEntries(output), Is.EqualTo(new[] { Path.Combine(output, "notes.txt") }));
        Assert.That(TestModels.Temporaries(output), Is.Empty);
    }

    [Test]
    public void CancellingFromTheProgressCallback_LeavesNothingAtAll()
    {
        using var adapter = TestModels.Lora(RandomTensors.For("cancel"), [("model.layers.1.self_attn.q_proj", 24, 24)], 2, 2, DType.F32);
        string output = Path.Combine(_root, "out");
        using var cancel = new CancellationTokenSource();
        int reports = 0;
        var progress = new SynchronousProgress(p =>
        {
            if (++reports == 5)
                cancel.Cancel();
        });
        Assert.Throws(Is.InstanceOf<OperationCanceledException>(), () => ModelMerger.Merge(_model, adapter, output, Quiet, progress, cancel.Token));
        Assert.That(reports, Is.EqualTo(5), "stopped at the next tensor");
        AssertNothingWritten(output);
        Assert.That(Directory.GetFileSystemEntries(_root).Select(Path.GetFileName), Is.EquivalentTo(new[] { "base" }));
    }

    [Test]
    public void AStaleTemporaryOfADeadProcess_IsRemovedByTheNextMerge()
    {
        using var adapter = TestModels.Lora(RandomTensors.For("stale"), [("model.layers.0.self_attn.q_proj", 24, 24)], 2, 2, DType.F32);
        string output = Path.Combine(_root, "out");
        int deadPid;
        using (var p = Process.Start(new ProcessStartInfo("true") { UseShellExecute = false })!)
        {
            p.WaitForExit();
            deadPid = p.Id;
        }
        string stale = Path.Combine(_root, $".out.peftnative-partial-{deadPid}-0badc0de");
        Directory.CreateDirectory(stale);
        File.WriteAllText(Path.Combine(stale, "model.safetensors"), "half");
        var notices = new List<string>();

        ModelMerger.Merge(_model, adapter, output, Quiet with { Diagnostics = notices.Add });

        Assert.That(Directory.Exists(stale), Is.False);
        Assert.That(notices, Has.One.Contains(stale));
        Assert.That(Directory.Exists(output), Is.True);
    }

    /// <summary>Reports synchronously on the merging thread (Progress&lt;T&gt; would post them later).</summary>
    private sealed class SynchronousProgress(Action<MergeProgress> report) : IProgress<MergeProgress>
    {
        public void Report(MergeProgress value) => report(value);
    }
}
