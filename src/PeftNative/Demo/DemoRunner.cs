using System.Diagnostics;
using PeftNative.Adapters;
using PeftNative.Backends;
using PeftNative.Composition;
using PeftNative.Evaluation;
using PeftNative.Merging;
using PeftNative.Models.Transformer;

namespace PeftNative.Demo;

/// <summary>
/// The built-in demo: writes <see cref="DemoWorkspace"/>, runs each of the paper's compositions,
/// merges the unlearning result into the model, checks that the merged model and the base with
/// the adapter applied at run time give the same logits, and measures perplexity and speed.
/// </summary>
public static class DemoRunner
{
    /// <summary>The composition merged into the model (the paper's detoxification by negation).</summary>
    public const string MergedComposition = "detoxified";

    /// <summary>Relative tolerance of the merged-versus-run-time check in f32.</summary>
    public const double Tolerance = 1e-4;

    /// <summary>Runs the demo; <paramref name="step"/> hears the name of each step as it starts.</summary>
    public static DemoReport Run(DemoOptions options, IProgress<string>? step = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        var total = Stopwatch.StartNew();
        step?.Report("writing a small random LLaMA-style model and 11 adapters");
        var workspace = DemoWorkspace.Create(options.Root, options.Shape, cancellationToken);
        double setupSeconds = total.Elapsed.TotalSeconds;
        int[] tokens = DemoTokens(options.Shape.VocabSize, options.Tokens);

        var adapters = new Dictionary<string, PeftAdapter>(StringComparer.Ordinal);
        var composed = new Dictionary<string, PeftAdapter>(StringComparer.Ordinal);
        try
        {
            foreach (var spec in DemoWorkspace.AdapterSpecs)
                adapters[spec.Name] = PeftAdapter.Load(workspace.AdapterDirectory(spec.Name));

            using var backend = KernelBackendFactory.Create(options.Backend, options.Threads, options.Diagnostics);
            var loadOptions = new TransformerLoadOptions { Threads = options.Threads, Diagnostics = options.Diagnostics };
            var results = new List<DemoCompositionResult>();
            foreach (var composition in DemoWorkspace.Compositions)
            {
                step?.Report($"composing {composition.Use}: {composition.Expression}");
                var clock = Stopwatch.StartNew();
                var result = AdapterComposer.Compose(ModuleExpression.Parse(composition.Expression), adapters,
                    new CompositionOptions { Backend = backend }, null, cancellationToken);
                double ms = clock.Elapsed.TotalMilliseconds;
                composed[composition.Name] = result.Adapter;
                result.Save(workspace.CompositionDirectory(composition.Name), cancellationToken: cancellationToken);
                using var model = TransformerModel.Load(workspace.ModelDirectory,
                    loadOptions with { RuntimeAdapters = [new WeightedAdapter(result.Adapter)] });
                double perplexity = Perplexity(model, tokens, out _, cancellationToken);
                results.Add(new DemoCompositionResult(composition.Use, composition.Expression,
                    workspace.CompositionDirectory(composition.Name), result.Adapter.ModuleCount, ms, perplexity));
            }

            step?.Report($"merging '{MergedComposition}' into the model");
            string mergedDirectory = Path.Combine(workspace.Root, "merged", MergedComposition);
            Directory.CreateDirectory(Path.GetDirectoryName(mergedDirectory)!);
            var merge = ModelMerger.Merge(workspace.ModelDirectory, composed[MergedComposition], mergedDirectory,
                new MergeOptions { Threads = options.Threads, Backend = options.Backend, Diagnostics = options.Diagnostics },
                null, cancellationToken);

            step?.Report("checking merged against run-time logits; perplexity before and after");
            double before;
            using (var baseModel = TransformerModel.Load(workspace.ModelDirectory, loadOptions))
                before = Perplexity(baseModel, tokens, out _, cancellationToken);
            float[] runtimeLogits;
            using (var runtime = TransformerModel.Load(workspace.ModelDirectory,
                       loadOptions with { RuntimeAdapters = [new WeightedAdapter(composed[MergedComposition])] }))
                runtimeLogits = Logits(runtime, tokens, cancellationToken);
            using var merged = TransformerModel.Load(mergedDirectory, loadOptions);
            var prefill = Stopwatch.StartNew();
            float[] mergedLogits = Logits(merged, tokens, cancellationToken);
            double prefillSeconds = prefill.Elapsed.TotalSeconds;
            double after = Perplexity(merged, tokens, out double decodeSeconds, cancellationToken);

            return new DemoReport
            {
                Root = workspace.Root,
                ModelParameters = workspace.ModelBytes / sizeof(float),
                SetupSeconds = setupSeconds,
                Compositions = results,
                MergedExpression = DemoWorkspace.Compositions.Single(c => c.Name == MergedComposition).Expression,
                MergedDirectory = mergedDirectory,
                MergeSeconds = merge.Seconds,
                MergeBytesPerSecond = (merge.BytesRead + merge.BytesWritten) / Math.Max(merge.Seconds, 1e-9),
                MergeTensorsTouched = merge.TensorsTouched,
                MaxRelativeLogitDifference = MaxRelativeDifference(mergedLogits, runtimeLogits),
                Tolerance = Tolerance,
                Tokens = tokens.Length,
                PerplexityBefore = before,
                PerplexityAfter = after,
                PrefillTokensPerSecond = tokens.Length / prefillSeconds,
                DecodeTokensPerSecond = (tokens.Length - 1) / decodeSeconds,
                TotalSeconds = total.Elapsed.TotalSeconds,
            };
        }
        finally
        {
            foreach (var adapter in composed.Values)
                adapter.Dispose();
            foreach (var adapter in adapters.Values)
                adapter.Dispose();
        }
    }

    /// <summary>A fixed pseudo-text: token ids drawn deterministically, avoiding the special ids 0-2.</summary>
    internal static int[] DemoTokens(int vocabularySize, int count)
    {
        var random = new DemoRandom(0x5EED_70CEUL);
        var tokens = new int[count];
        for (int i = 0; i < count; i++)
            tokens[i] = 3 + (int)((random.NextSigned() + 1f) * 0.5f * (vocabularySize - 3)) % (vocabularySize - 3);
        return tokens;
    }

    private static float[] Logits(ICausalLanguageModel model, int[] tokens, CancellationToken cancellationToken)
    {
        using var cache = model.CreateCache(tokens.Length);
        var logits = new float[tokens.Length * model.VocabularySize];
        model.Forward(tokens, cache, logits, cancellationToken);
        return logits;
    }

    // Token by token through the KV cache (the decode path), so the same pass times decoding.
    private static double Perplexity(ICausalLanguageModel model, int[] tokens, out double seconds, CancellationToken cancellationToken)
    {
        using var cache = model.CreateCache(tokens.Length);
        var logits = new float[model.VocabularySize];
        double sum = 0;
        var clock = Stopwatch.StartNew();
        for (int i = 0; i < tokens.Length - 1; i++)
        {
            model.Forward(tokens.AsSpan(i, 1), cache, logits, cancellationToken);
            sum += LogitMath.LogProbability(logits, tokens[i + 1], "demo");
        }
        seconds = clock.Elapsed.TotalSeconds;
        return Math.Exp(-sum / (tokens.Length - 1));
    }

    private static double MaxRelativeDifference(float[] x, float[] y)
    {
        double maxAbs = 0, maxDiff = 0;
        for (int i = 0; i < x.Length; i++)
        {
            maxAbs = Math.Max(maxAbs, Math.Abs(y[i]));
            maxDiff = Math.Max(maxDiff, Math.Abs((double)x[i] - y[i]));
        }
        return maxDiff / Math.Max(maxAbs, 1e-30);
    }
}
