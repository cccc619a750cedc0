namespace PeftNative.Evaluation;

/// <summary>What <see cref="PerplexityEvaluator.Evaluate"/> measured.</summary>
public sealed class PerplexityResult
{
    internal PerplexityResult(int[] tokens, double[] tokenLogProbs, int contextLength, int stride, int windows)
    {
        Tokens = tokens;
        TokenLogProbs = tokenLogProbs;
        ContextLength = contextLength;
        Stride = stride;
        Windows = windows;
        foreach (double lp in tokenLogProbs)
        {
            if (!double.IsNaN(lp))
            {
                LogLikelihood += lp;
                ScoredTokens++;
            }
        }
    }

    /// <summary>The token sequence evaluated.</summary>
    public IReadOnlyList<int> Tokens { get; }

    /// <summary>
    /// One entry per token from the second on: entry i is log p(token i+1 | the window's tokens before it),
    /// natural log. NaN for a token that no window scored (only with stride = context length: the token a
    /// window starts with has no context in it, and Hugging Face's recipe skips it).
    /// </summary>
    public IReadOnlyList<double> TokenLogProbs { get; }

    /// <summary>Sum of the scored log-probabilities.</summary>
    public double LogLikelihood { get; }

    /// <summary>Tokens scored (those with a log-probability).</summary>
    public int ScoredTokens { get; }

    /// <summary>exp(-LogLikelihood / ScoredTokens).</summary>
    public double Perplexity => Math.Exp(-LogLikelihood / ScoredTokens);

    /// <summary>The context length used.</summary>
    public int ContextLength { get; }

    /// <summary>The stride used.</summary>
    public int Stride { get; }

    /// <summary>Windows run.</summary>
    public int Windows { get; }
}
