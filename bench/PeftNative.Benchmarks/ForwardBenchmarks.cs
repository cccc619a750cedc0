using BenchmarkDotNet.Attributes;
using PeftNative.Benchmarking;
using PeftNative.Models.Transformer;

namespace PeftNative.Benchmarks;

/// <summary>
/// Forward-pass throughput of a synthetic ~125M-parameter decoder (<see cref="ForwardProbeModel"/>:
/// GPT-2 small, or a LLaMA of that size) written to a temporary directory once per parameter set.
/// <c>Prefill</c> runs <see cref="PromptTokens"/> tokens from an empty cache; <c>Decode</c> adds one
/// token after that prompt (the cache is truncated back each time). Both report the time per token
/// (OperationsPerInvoke), so tokens/s = 1e9 / Mean[ns]. The product is whatever
/// <see cref="Backends.MatMulFactory"/> picks (PEFTNATIVE_BACKEND overrides), all logical CPUs.
/// </summary>
public class ForwardBenchmarks
{
    /// <summary>Tokens of the prompt.</summary>
    public const int PromptTokens = 128;

    /// <summary>Model shape.</summary>
    [Params("gpt2", "llama")]
    public string Architecture { get; set; } = "gpt2";

    /// <summary>Stored weight dtype (computed in f32 either way).</summary>
    [Params("f32", "bf16")]
    public string DType { get; set; } = "f32";

    private string? _dir;
    private ICausalLanguageModel _model = null!;
    private KeyValueCache _cache = null!;
    private int[] _prompt = [];
    private float[] _promptLogits = [];
    private float[] _stepLogits = [];

    /// <summary>Writes the model and loads it.</summary>
    [GlobalSetup]
    public void Setup()
    {
        _dir = BenchDirectory.Create("peftnative-forward-");
        ForwardProbeModel.Write(_dir, Architecture, DTypeInfo.Parse(DType));
        _model = TransformerModel.Load(_dir);
        _cache = _model.CreateCache(PromptTokens + 1);
        var rng = new Random(7);
        _prompt = Enumerable.Range(0, PromptTokens).Select(_ => rng.Next(_model.VocabularySize)).ToArray();
        _promptLogits = new float[PromptTokens * _model.VocabularySize];
        _stepLogits = new float[_model.VocabularySize];
        _model.Forward(_prompt, _cache, _promptLogits);
    }

    /// <summary>The prompt from an empty cache; time per prompt token.</summary>
    [Benchmark(OperationsPerInvoke = PromptTokens)]
    public void Prefill()
    {
        _cache.Truncate(0);
        _model.Forward(_prompt, _cache, _promptLogits);
    }

    /// <summary>One more token after the prompt; time per generated token.</summary>
    [Benchmark]
    public void Decode()
    {
        if (_cache.Length != PromptTokens)
        {
            _cache.Truncate(0);
            _model.Forward(_prompt, _cache, _promptLogits);
        }
        _model.Forward([_prompt[^1]], _cache, _stepLogits);
        _cache.Truncate(PromptTokens);
    }

    /// <summary>Releases the model and removes the directory.</summary>
    [GlobalCleanup]
    public void Cleanup()
    {
        _cache.Dispose();
        _model.Dispose();
        BenchDirectory.Remove(_dir);
    }
}
