using PeftNative.Models.Transformer;

namespace PeftNative.Tests.Models.Transformer;

/// <summary>
/// Random small decoders written to a temp directory, compared with <see cref="ReferenceDecoder"/>
/// (float64, plain loops) for what the fixtures do not cover: Qwen2 q/k/v biases, LLaMA
/// attention/MLP biases, tied LLaMA heads, 6/3 and 6/1 head ratios, head_dim ≠ hidden/heads,
/// rope_theta 5e5 and 1e6, several eps values, f16 and bf16 weights, Mistral's sliding window,
/// GPT-2 hub keys, untied head and inverse-layer scaling. With random LoRA and (IA)^3 adapters
/// (negative weights included) both merged and at run time against the reference with the same
/// updates applied in float64.
/// </summary>
[TestFixture]
public class RandomModelTests
{
    private const double Rtol = 1e-4;
    private string _dir = "";

    [SetUp]
    public void SetUp() => _dir = Directory.CreateTempSubdirectory("peftnative-decoder-").FullName;

    [TearDown]
    public void TearDown() => Directory.Delete(_dir, recursive: true);

    public static IEnumerable<RandomDecoderSpec> Specs()
    {
        yield return new("qwen2", Hidden: 48, Layers: 2, Heads: 6, KvHeads: 3, Inner: 72, Vocab: 53, DType.F16) { Theta = 1e6, Eps = 1e-6, Tied = true };
        yield return new("llama", Hidden: 40, Layers: 2, Heads: 6, KvHeads: 1, Inner: 56, Vocab: 61, DType.BF16) { HeadDim = 10, Theta = 500000, Eps = 1e-5, Tied = true, AttentionBias = true, MlpBias = true };
        yield return new("llama", Hidden: 36, Layers: 3, Heads: 6, KvHeads: 6, Inner: 50, Vocab: 47, DType.F32) { HeadDim = 8, Eps = 1e-3 };
        yield return new("mistral", Hidden: 32, Layers: 2, Heads: 4, KvHeads: 2, Inner: 44, Vocab: 41, DType.F32) { SlidingWindow = 5, Eps = 1e-6, Theta = 1e6 };
        yield return new("gpt2", Hidden: 24, Layers: 2, Heads: 3, KvHeads: 3, Inner: 40, Vocab: 37, DType.F16) { Eps = 1e-3, HubStyle = true, ScaleByInverseLayer = true };
        yield return new("gpt2", Hidden: 32, Layers: 2, Heads: 4, KvHeads: 4, Inner: 64, Vocab: 45, DType.BF16) { Tied = false };
    }

    [TestCaseSource(nameof(Specs))]
    public void BaseMatchesFloat64Reference(RandomDecoderSpec spec)
    {
        var rng = RandomTensors.For("base " + spec);
        var reference = RandomDecoderCheckpoint.Write(_dir, spec, rng);
        int[] tokens = Tokens(rng, spec, 13);
        using var model = TransformerModel.Load(_dir, new TransformerLoadOptions { Threads = 2 });
        Assert.That(model.ModelType, Is.EqualTo(spec.Type));
        Compare($"{spec} base", model, reference, tokens);
    }

    [TestCaseSource(nameof(Specs))]
    public void WeightedAdaptersMergedAndRuntimeMatchReference(RandomDecoderSpec spec)
    {
        var rng = RandomTensors.For("adapters " + spec);
        var reference = RandomDecoderCheckpoint.Write(_dir, spec, rng);
        int[] tokens = Tokens(rng, spec, 11);
        var a = RandomAdapter.CreateLora(spec, rng, rank: 3, alpha: 6, DType.F32);
        var b = RandomAdapter.CreateLora(spec, rng, rank: 5, alpha: 4, DType.BF16, rsLora: true);
        var l = RandomAdapter.CreateIa3(spec, rng);
        try
        {
            // LoRA first, then (IA)^3, as the library documents for modules touched by both.
            a.ApplyLora(reference, 0.7);
            b.ApplyLora(reference, -0.45);
            l.ApplyIa3(reference, -0.6);
            WeightedAdapter[] stack = [new(a.Adapter, 0.7f), new(l.Adapter, -0.6f), new(b.Adapter, -0.45f)];
            using var merged = TransformerModel.Load(_dir, new TransformerLoadOptions { MergedAdapters = stack, Threads = 2 });
            using var runtime = TransformerModel.Load(_dir, new TransformerLoadOptions { RuntimeAdapters = stack, Threads = 2 });
            Compare($"{spec} merged", merged, reference, tokens);
            Compare($"{spec} runtime", runtime, reference, tokens);
            LogitAssert.Relative($"{spec} merged vs runtime", ModelRunner.Logits(runtime, tokens), ModelRunner.Logits(merged, tokens), merged.VocabularySize, Rtol);
        }
        finally
        {
            a.Adapter.Dispose();
            b.Adapter.Dispose();
            l.Adapter.Dispose();
        }
    }

    [TestCaseSource(nameof(Specs))]
    public void CacheDecodingEqualsFullRecomputation(RandomDecoderSpec spec)
    {
        var rng = RandomTensors.For("cache " + spec);
        RandomDecoderCheckpoint.Write(_dir, spec, rng);
        int[] tokens = Tokens(rng, spec, 14);
        using var model = TransformerModel.Load(_dir, new TransformerLoadOptions { Threads = 2 });
        CacheChecks.Run(spec.ToString(), model, tokens);
    }

    private static int[] Tokens(Random rng, RandomDecoderSpec spec, int count) =>
        Enumerable.Range(0, count).Select(_ => rng.Next(spec.Vocab)).ToArray();

    private static void Compare(string context, ICausalLanguageModel model, ReferenceDecoder reference, int[] tokens)
    {
        double[][] want = reference.Logits(tokens);
        float[] got = ModelRunner.Logits(model, tokens);
        int v = reference.Vocab;
        var flat = want.SelectMany(r => r).Select(x => (float)x).ToArray();
        LogitAssert.Relative(context, got, flat, v, Rtol);
    }
}
