namespace PeftNative.Demo;

/// <summary>One composition the demo ran.</summary>
/// <param name="Use">The paper's use it illustrates.</param>
/// <param name="Expression">The expression.</param>
/// <param name="Directory">Where the composed adapter was saved.</param>
/// <param name="Modules">Modules in the result.</param>
/// <param name="Milliseconds">Time to compose (adapters already loaded).</param>
/// <param name="Perplexity">Perplexity of the base model with the result applied at run time.</param>
public sealed record DemoCompositionResult(string Use, string Expression, string Directory, int Modules, double Milliseconds, double Perplexity);

/// <summary>What <see cref="DemoRunner"/> found.</summary>
public sealed record DemoReport
{
    /// <summary>Where the files are.</summary>
    public required string Root { get; init; }

    /// <summary>Parameters of the demo model.</summary>
    public required long ModelParameters { get; init; }

    /// <summary>Seconds to write the model and the adapters.</summary>
    public required double SetupSeconds { get; init; }

    /// <summary>The compositions, in order.</summary>
    public required IReadOnlyList<DemoCompositionResult> Compositions { get; init; }

    /// <summary>The composition merged into the model.</summary>
    public required string MergedExpression { get; init; }

    /// <summary>The merged model directory.</summary>
    public required string MergedDirectory { get; init; }

    /// <summary>Seconds the merge took.</summary>
    public required double MergeSeconds { get; init; }

    /// <summary>Merge throughput: bytes read plus written per second.</summary>
    public required double MergeBytesPerSecond { get; init; }

    /// <summary>Tensors the merge changed.</summary>
    public required int MergeTensorsTouched { get; init; }

    /// <summary>Largest |merged − run-time| over the logits, relative to the largest |logit|.</summary>
    public required double MaxRelativeLogitDifference { get; init; }

    /// <summary>The tolerance the agreement check uses (f32).</summary>
    public required double Tolerance { get; init; }

    /// <summary>Merged and run-time adapters gave the same logits within <see cref="Tolerance"/>.</summary>
    public bool Agrees => MaxRelativeLogitDifference <= Tolerance;

    /// <summary>Tokens evaluated.</summary>
    public required int Tokens { get; init; }

    /// <summary>Perplexity of the base model.</summary>
    public required double PerplexityBefore { get; init; }

    /// <summary>Perplexity of the merged model.</summary>
    public required double PerplexityAfter { get; init; }

    /// <summary>Forward-pass throughput of the merged model over the whole sequence (prefill).</summary>
    public required double PrefillTokensPerSecond { get; init; }

    /// <summary>Forward-pass throughput one token at a time with the KV cache (decode).</summary>
    public required double DecodeTokensPerSecond { get; init; }

    /// <summary>Total seconds.</summary>
    public required double TotalSeconds { get; init; }

    /// <summary>What the numbers mean.</summary>
    public static string Caveat =>
        "The demo's weights are random: its numbers show that merged and run-time adapters agree and how fast the steps run, " +
        "not the quality of a composition.";
}
