using PeftNative.Models.Transformer;

namespace PeftNative.Tests.Evaluation;

/// <summary>
/// A deterministic stand-in for a transformer with real KV-cache rules: the logits after the
/// tokens s_0..s_p held in the cache (positions count from the cache's start, as a model's do) are
/// <c>logit[v] = Σ_j W[s_j, v] · decay^(p-j) + P[p mod 5, v]</c>, so every token of the context and
/// its position matter. <see cref="ReferenceLogits"/> computes the same in float64 without a cache.
/// Forward refuses a foreign cache, a full cache, ids outside the vocabulary and a wrong logits
/// length, and counts the positions it runs.
/// </summary>
internal sealed class FakeLanguageModel : ICausalLanguageModel
{
    private const double Decay = 0.7;
    private readonly double[,] _w;
    private readonly double[,] _position;

    public FakeLanguageModel(int vocab, int maxSequenceLength, string seed, double scale = 2.0)
    {
        VocabularySize = vocab;
        MaxSequenceLength = maxSequenceLength;
        var rng = RandomTensors.For(seed);
        _w = new double[vocab, vocab];
        _position = new double[5, vocab];
        for (int i = 0; i < vocab; i++)
            for (int v = 0; v < vocab; v++)
                _w[i, v] = scale * RandomTensors.NextSigned(rng);
        for (int i = 0; i < 5; i++)
            for (int v = 0; v < vocab; v++)
                _position[i, v] = RandomTensors.NextSigned(rng);
    }

    public string ModelType => "fake";

    public int VocabularySize { get; }

    public int MaxSequenceLength { get; }

    /// <summary>Positions run through <see cref="Forward"/> so far.</summary>
    public long PositionsRun { get; private set; }

    /// <summary>Model calls so far.</summary>
    public int Calls { get; private set; }

    /// <summary>When set, the logits of this position (in the cache) are NaN.</summary>
    public int? PoisonPosition { get; set; }

    /// <summary>When set, every logit is this value (ties everywhere).</summary>
    public float? Constant { get; set; }

    public KeyValueCache CreateCache(int capacity)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(capacity, MaxSequenceLength);
        return new Cache(this, capacity);
    }

    public void Forward(ReadOnlySpan<int> tokens, KeyValueCache cache, Span<float> logits, CancellationToken cancellationToken = default)
    {
        if (cache is not Cache c || c.Owner != this)
            throw new ArgumentException("a cache of another model");
        if (c.Length + tokens.Length > c.Capacity)
            throw new ArgumentException($"cache full: {c.Length} + {tokens.Length} > {c.Capacity}");
        if (logits.Length != tokens.Length * VocabularySize)
            throw new ArgumentException("logits span of the wrong length");
        Calls++;
        logits.Fill(float.NaN); // poison: every row must be written
        for (int t = 0; t < tokens.Length; t++)
        {
            if ((uint)tokens[t] >= (uint)VocabularySize)
                throw new ArgumentException($"token {tokens[t]} outside the vocabulary");
            c.Tokens.Add(tokens[t]);
            PositionsRun++;
            var row = ReferenceLogits(c.Tokens);
            for (int v = 0; v < VocabularySize; v++)
                logits[t * VocabularySize + v] = Constant ?? (PoisonPosition == c.Tokens.Count - 1 ? float.NaN : (float)row[v]);
        }
    }

    /// <summary>The logits after <paramref name="context"/> (position 0 = its first token), in float64.</summary>
    public double[] ReferenceLogits(IReadOnlyList<int> context)
    {
        var row = new double[VocabularySize];
        int p = context.Count - 1;
        for (int v = 0; v < VocabularySize; v++)
        {
            double sum = _position[p % 5, v];
            for (int j = 0; j <= p; j++)
                sum += _w[context[j], v] * Math.Pow(Decay, p - j);
            row[v] = sum;
        }
        return row;
    }

    /// <summary>log softmax of the float64 logits after <paramref name="context"/>, at <paramref name="token"/>, by the textbook formula.</summary>
    public double ReferenceLogProb(IReadOnlyList<int> context, int token)
    {
        var row = ReferenceLogits(context);
        double z = row.Select(x => Math.Exp(x)).Sum();
        return Math.Log(Math.Exp(row[token]) / z);
    }

    public void Dispose() { }

    private sealed class Cache(FakeLanguageModel owner, int capacity) : KeyValueCache
    {
        public FakeLanguageModel Owner { get; } = owner;

        public List<int> Tokens { get; } = [];

        public override int Length => Tokens.Count;

        public override int Capacity { get; } = capacity;

        public override void Truncate(int length)
        {
            ArgumentOutOfRangeException.ThrowIfNegative(length);
            ArgumentOutOfRangeException.ThrowIfGreaterThan(length, Length);
            Tokens.RemoveRange(length, Tokens.Count - length);
        }
    }
}
