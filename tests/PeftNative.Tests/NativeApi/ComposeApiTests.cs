using System.Text.Json.Nodes;
using PeftNative.Adapters;
using PeftNative.Backends;
using PeftNative.Composition;
using PeftNative.Merging;
using PeftNative.SafeTensors;
using PeftNative.Tests.SafeTensors;

namespace PeftNative.Tests.NativeApi;

/// <summary>
/// The NativeAOT library's exports (peftnative.h) driven from C: src/PeftNative.NativeApi/examples/compose_example.c,
/// compiled with gcc against the library published once per run (<see cref="PublishedNativeApi"/>), composes the
/// gpt2-tiny fixture adapters and must write what the managed API writes, tensor by tensor; bad input must come back
/// as a non-zero status (equal to the kernel ABI's where they overlap) with a message naming the problem, and write nothing.
/// </summary>
[NonParallelizable]
public class ComposeApiTests
{
    // peftnative_status (peftnative.h); 0-4 are pn_status.
    private const int Ok = 0, InvalidArgument = 1, Unsupported = 2, Io = 5, InvalidData = 6;

    private static string GptA => Fixtures.ReferenceModel("gpt2-tiny/adapters/lora_a");

    private static string GptB => Fixtures.ReferenceModel("gpt2-tiny/adapters/lora_b");

    private static string Ia3A => Fixtures.ReferenceModel("gpt2-tiny/adapters/ia3_a");

    private static string Ia3B => Fixtures.ReferenceModel("gpt2-tiny/adapters/ia3_b");

    [Test]
    public void StatusCodes_AreTheKernelAbis()
    {
        using (Assert.EnterMultipleScope())
        {
            Assert.That(InvalidArgument, Is.EqualTo((int)Interop.NativeStatus.InvalidArgument));
            Assert.That(Unsupported, Is.EqualTo((int)Interop.NativeStatus.Unsupported));
            string header = File.ReadAllText(Path.Combine(CCompiler.RepoRoot, "src", "PeftNative.NativeApi", "include", "peftnative.h"));
            foreach (var status in Enum.GetValues<Interop.NativeStatus>())
                Assert.That(header, Does.Contain($" = {(int)status},").Or.Contain($" = {(int)status} "), $"peftnative.h defines code {(int)status} ({status})");
        }
    }

    [TestCase("0.7*a + 0.3*b", "-")]
    [TestCase("a - 0.6*b", "exact")]
    [TestCase("0.5*a + 0.5*b", "ties")]
    [TestCase("0.5*a + 0.5*b", "-", true)]
    public void Compose_WritesWhatTheManagedApiWrites(string expression, string method, bool ia3 = false)
    {
        string example = PublishedNativeApi.Example;
        using var dir = new TempDir();
        string a = ia3 ? Ia3A : GptA, b = ia3 ? Ia3B : GptB;
        // Both sides on one backend. native-cpu where it loads: the library must then find the kernels
        // published beside it, as the example runs from another folder than the library's.
        string backend = TestBackends.NativeAvailable ? "native-cpu" : "managed";
        var run = Run(example, new Dictionary<string, string?> { [KernelBackendFactory.EnvironmentVariable] = backend },
            "compose", dir.File("c"), expression, method, "a=" + a, "b=" + b);
        Assert.That(run.Status, Is.EqualTo(Ok), run.Message);

        using (var left = PeftAdapter.Load(a))
        using (var right = PeftAdapter.Load(b))
        using (var kernels = KernelBackendFactory.Create(backend, threads: 1))
        {
            var options = new CompositionOptions { Method = method == "-" ? CompositionMethod.Paper : CompositionMethodNames.Parse(method), Backend = kernels };
            using var managed = AdapterComposer.Compose(ModuleExpression.Parse(expression), new Dictionary<string, PeftAdapter> { ["a"] = left, ["b"] = right }, options);
            managed.Save(dir.File("m"));
        }
        AssertSameAdapter(dir.File("c"), dir.File("m"), $"{expression} ({method})");
    }

    [Test]
    public void BadInput_NonZeroStatus_NamingTheProblem_AndNothingWritten()
    {
        string example = PublishedNativeApi.Example;
        using var dir = new TempDir();
        string outDir = dir.File("out");
        Directory.CreateDirectory(dir.File("taken"));
        File.WriteAllText(Path.Combine(dir.File("taken"), AdapterFiles.Config), "{}");
        Directory.CreateDirectory(dir.File("broken"));
        File.WriteAllText(Path.Combine(dir.File("broken"), AdapterFiles.Config), "{ not json");
        string missing = dir.File("no-such-adapter");
        using (Assert.EnterMultipleScope())
        {
            AssertFails(Run(example, "compose", outDir, "a + b", "-", "a=" + GptA, "b=" + missing), Io, "adapter 'b'", missing);
            AssertFails(Run(example, "compose", outDir, "0.5*a + *b", "-", "a=" + GptA, "b=" + GptB), InvalidArgument, "bad expression", "position 8");
            AssertFails(Run(example, "compose", outDir, "0.5*a + 0.5*z", "-", "a=" + GptA, "b=" + GptB), InvalidArgument, "'z'");
            AssertFails(Run(example, "compose", outDir, "a + b", "average", "a=" + GptA, "b=" + GptB), InvalidArgument, "average");
            AssertFails(Run(example, "compose", outDir, "a", "-", "a=" + GptA, "a=" + GptB), InvalidArgument, "'a'", "twice");
            AssertFails(Run(example, "compose", outDir, "a + i", "-", "a=" + GptA, "i=" + Ia3A), InvalidArgument, "peftnative_compose");
            AssertFails(Run(example, "compose", outDir, "a + b", "-", "a=" + GptA, "b=" + dir.File("broken")), InvalidData, "adapter 'b'", "not valid JSON");
            AssertFails(Run(example, "compose", dir.File("taken"), "a", "-", "a=" + GptA), Io, dir.File("taken"));
            AssertFails(Run(example, "compose", GptA, "a", "-", "a=" + GptA), InvalidArgument, "input adapter 'a'");
            AssertFails(Run(example, "merge", dir.File("no-model"), GptA, dir.File("merged"), "-1", "0"), Io, dir.File("no-model"));
            AssertFails(Run(example, "merge", dir.File("taken"), GptA, dir.File("merged"), "7", "0"), InvalidArgument, "dtype 7");
            Assert.That(Directory.Exists(outDir), Is.False, "nothing is written on bad input");
            Assert.That(Directory.Exists(dir.File("merged")), Is.False, "nothing is written on bad input");
            Assert.That(Directory.GetFiles(dir.File("taken")), Has.Length.EqualTo(1), "an existing output is left alone");
        }
    }

    /// <summary>peftnative_merge gives what <see cref="ModelMerger.Merge"/> gives: the same files, tensor by tensor.</summary>
    [Test]
    public void Merge_MatchesTheManagedMerger()
    {
        string example = PublishedNativeApi.Example;
        string model = Fixtures.ReferenceModel("gpt2-tiny/base");
        using var dir = new TempDir();
        var run = Run(example, "merge", model, GptA, dir.File("c"), "-1", "2");
        using (var adapter = PeftAdapter.Load(GptA))
            ModelMerger.Merge(model, adapter, dir.File("m"), new MergeOptions { Threads = 2, Diagnostics = static _ => { } });
        Assert.That(run.Status, Is.EqualTo(Ok), run.Message);
        var files = Directory.GetFiles(dir.File("m")).Select(Path.GetFileName).Order().ToList();
        Assert.That(Directory.GetFiles(dir.File("c")).Select(Path.GetFileName).Order(), Is.EqualTo(files));
        foreach (string file in files.Where(f => f!.EndsWith(".safetensors", StringComparison.Ordinal)).Cast<string>())
            AssertSameTensors(Path.Combine(dir.File("c"), file), Path.Combine(dir.File("m"), file));
    }

    private readonly record struct ExampleRun(int Status, string Message, string Output);

    /// <summary>Runs compose_example; its exit code is the status, its "status N MESSAGE" line carries the last error.</summary>
    private static ExampleRun Run(string example, params string[] args) => Run(example, null, args);

    private static ExampleRun Run(string example, IReadOnlyDictionary<string, string?>? environment, params string[] args)
    {
        var (rc, stdout, stderr) = ExternalProcess.Run(example, args, TimeSpan.FromMinutes(2), environment);
        var lines = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.That(lines, Has.Length.EqualTo(2), $"compose_example {string.Join(' ', args)}: two lines expected:\n{stdout}\n{stderr}");
        Assert.That(lines[0], Does.StartWith("peftnative 0.1.0 abi 1"));
        string[] status = lines[1].Split(' ', 3);
        Assert.That(status[0], Is.EqualTo("status"));
        Assert.That(int.Parse(status[1], System.Globalization.CultureInfo.InvariantCulture), Is.EqualTo(rc), "exit code = status");
        Assert.That(stderr, Is.Empty, "the library writes nothing to stderr");
        return new ExampleRun(rc, status.Length > 2 ? status[2] : "", stdout);
    }

    private static void AssertFails(ExampleRun run, int status, params string[] fragments)
    {
        Assert.That(run.Status, Is.EqualTo(status), run.Output);
        foreach (string f in fragments)
            Assert.That(run.Message, Does.Contain(f), $"status {run.Status}: the message names '{f}'");
    }

    private static void AssertSameAdapter(string got, string expected, string context)
    {
        var gotConfig = JsonNode.Parse(File.ReadAllText(Path.Combine(got, AdapterFiles.Config)));
        var expectedConfig = JsonNode.Parse(File.ReadAllText(Path.Combine(expected, AdapterFiles.Config)));
        Assert.That(JsonNode.DeepEquals(gotConfig, expectedConfig), Is.True, $"{context}: adapter_config.json differs:\n{gotConfig}\n---\n{expectedConfig}");
        AssertSameTensors(Path.Combine(got, AdapterFiles.Safetensors), Path.Combine(expected, AdapterFiles.Safetensors));
    }

    private static void AssertSameTensors(string got, string expected)
    {
        using var g = SafetensorsFile.Open(got);
        using var e = SafetensorsFile.Open(expected);
        Assert.That(g.Tensors.Select(t => t.Name).Order(), Is.EqualTo(e.Tensors.Select(t => t.Name).Order()), $"{got}: tensor names");
        Assert.That(e.Tensors, Is.Not.Empty);
        using (Assert.EnterMultipleScope())
        {
            foreach (var info in e.Tensors)
            {
                using var gt = g.GetTensor(info.Name);
                using var et = e.GetTensor(info.Name);
                Assert.That(gt.DType, Is.EqualTo(et.DType), info.Name);
                Assert.That(gt.Shape.ToArray(), Is.EqualTo(et.Shape.ToArray()), info.Name);
                Assert.That(gt.AsBytes().SequenceEqual(et.AsBytes()), Is.True, $"{got}: tensor {info.Name} differs from the managed API's");
            }
        }
    }
}
