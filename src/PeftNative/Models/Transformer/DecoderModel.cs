using PeftNative.Backends;

namespace PeftNative.Models.Transformer;

/// <summary>
/// A loaded decoder (GPT-2 or LLaMA family): embeddings, blocks, final norm and output head over
/// zero-copy views of the checkpoint. Forward calls on different caches may run concurrently;
/// one cache must not be used by two calls at once.
/// </summary>
internal sealed class DecoderModel : ICausalLanguageModel
{
    private readonly HuggingFaceModelDirectory _directory;
    private readonly ForwardContext _context;
    private readonly float[]? _positions;
    private readonly RotaryEmbedding? _rotary;
    private readonly IDecoderBlock[] _blocks;
    private readonly INormalization _finalNorm;
    private readonly List<Tensor> _owned = [];
    private bool _disposed;

    private DecoderModel(ArchitectureSpec spec, HuggingFaceModelDirectory directory, IMatMul matMul, TokenEmbedding embedding,
        float[]? positions, RotaryEmbedding? rotary, IDecoderBlock[] blocks, INormalization finalNorm, LinearProjection head)
    {
        Spec = spec;
        _directory = directory;
        _context = new ForwardContext(matMul);
        Embedding = embedding;
        _positions = positions;
        _rotary = rotary;
        _blocks = blocks;
        _finalNorm = finalNorm;
        Head = head;
    }

    public ArchitectureSpec Spec { get; }

    public HuggingFaceModelDirectory Directory => _directory;

    public TokenEmbedding Embedding { get; }

    /// <summary>The output head (for tied models a projection over the embedding tensor).</summary>
    public LinearProjection Head { get; }

    /// <summary>Every projection an adapter may target, by checkpoint tensor name (the tied head is not one: it is the embedding).</summary>
    public IReadOnlyDictionary<string, LinearProjection> Projections
    {
        get
        {
            var map = _blocks.SelectMany(b => b.Projections).ToDictionary(p => p.TensorName, StringComparer.Ordinal);
            if (!Spec.TieWordEmbeddings)
                map[Head.TensorName] = Head;
            return map;
        }
    }

    /// <inheritdoc/>
    public string ModelType => Spec.ModelType;

    /// <inheritdoc/>
    public int VocabularySize => Spec.VocabSize;

    /// <inheritdoc/>
    public int MaxSequenceLength => Spec.MaxPositions;

    /// <summary>The matrix product in use.</summary>
    public IMatMul MatMul => _context.MatMul;

    /// <summary>Keeps a private weight copy alive until the model is disposed.</summary>
    public void Own(Tensor tensor) => _owned.Add(tensor);

    /// <summary>True for a private copy made by <see cref="Own"/> (already f32 and writable).</summary>
    public bool IsOwned(Tensor tensor) => _owned.Contains(tensor);

    /// <summary>Builds the model; on success it owns <paramref name="directory"/> and <paramref name="matMul"/>.</summary>
    public static DecoderModel Build(ArchitectureSpec spec, HuggingFaceModelDirectory directory, IMatMul matMul)
    {
        var w = new CheckpointWeights(directory);
        int d = spec.HiddenSize;
        bool gpt2 = spec.Family == ModelFamily.Gpt2;
        string root = gpt2 ? "transformer" : "model";
        var (embeddingName, embeddingTensor) = w.Matrix(gpt2 ? "transformer.wte" : "model.embed_tokens", spec.VocabSize, d);
        var embedding = new TokenEmbedding(embeddingName, embeddingTensor);
        float[]? positions = gpt2 ? TensorRows.ToFloats(w.Matrix("transformer.wpe", spec.MaxPositions, d).Tensor) : null;
        var rotary = gpt2 ? null : new RotaryEmbedding(spec.HeadDim, spec.RopeTheta);
        var blocks = new IDecoderBlock[spec.Layers];
        for (int i = 0; i < spec.Layers; i++)
            blocks[i] = gpt2 ? Gpt2Block.Load(spec, i, w) : LlamaBlock.Load(spec, i, w, rotary!);
        INormalization finalNorm = gpt2
            ? new LayerNorm(w.Vector($"{root}.ln_f", "weight", d), w.Vector($"{root}.ln_f", "bias", d), spec.NormEpsilon)
            : new RmsNorm(w.Vector($"{root}.norm", "weight", d), spec.NormEpsilon);
        LinearProjection head = spec.TieWordEmbeddings
            ? new LinearProjection(embeddingName, embeddingTensor, inputMajor: false, bias: null)
            : LoadHead(w, spec);
        return new DecoderModel(spec, directory, matMul, embedding, positions, rotary, blocks, finalNorm, head);
    }

    private static LinearProjection LoadHead(CheckpointWeights w, ArchitectureSpec spec)
    {
        var (name, tensor) = w.Matrix("lm_head", spec.VocabSize, spec.HiddenSize);
        return new LinearProjection(name, tensor, inputMajor: false, bias: null);
    }

    /// <inheritdoc/>
    public KeyValueCache CreateCache(int capacity)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(capacity);
        if (capacity > MaxSequenceLength)
            throw new ArgumentOutOfRangeException(nameof(capacity), capacity, $"the model accepts at most {MaxSequenceLength} positions ({Spec.ModelType} max_position_embeddings / n_positions)");
        return new TransformerKeyValueCache(this, Spec.Layers, Spec.KeyValueHeads, Spec.HeadDim, capacity);
    }

    /// <inheritdoc/>
    public void Forward(ReadOnlySpan<int> tokens, KeyValueCache cache, Span<float> logits, CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        ArgumentNullException.ThrowIfNull(cache);
        if (cache is not TransformerKeyValueCache kv || !ReferenceEquals(kv.Owner, this))
            throw new ArgumentException("the cache was created by another model; use this model's CreateCache", nameof(cache));
        ObjectDisposedException.ThrowIf(kv.IsDisposed, cache);
        int vocab = VocabularySize;
        for (int i = 0; i < tokens.Length; i++)
        {
            if ((uint)tokens[i] >= (uint)vocab)
                throw new ArgumentException($"token {tokens[i]} at index {i} is outside the vocabulary 0..{vocab - 1} of {_directory.DirectoryPath}", nameof(tokens));
        }
        int m = tokens.Length, start = kv.Length;
        if (m > kv.Capacity - start)
            throw new ArgumentException($"the cache holds {start} of {kv.Capacity} positions; {m} more tokens do not fit (truncate it or create a larger cache)", nameof(cache));
        if (logits.Length != (long)m * vocab)
            throw new ArgumentException($"logits has {logits.Length} values, expected {m} x {vocab}", nameof(logits));
        if (m == 0)
            return;

        _rotary?.EnsurePositions(start + m);
        int d = Spec.HiddenSize;
        var hidden = new float[m * d];
        for (int t = 0; t < m; t++)
        {
            Span<float> row = hidden.AsSpan(t * d, d);
            Embedding.Lookup(tokens[t], row);
            if (_positions is not null)
                Residual.Add(row, _positions.AsSpan((start + t) * d, d));
        }
        for (int layer = 0; layer < _blocks.Length; layer++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            _blocks[layer].Forward(_context, hidden, m, start, kv, layer);
        }
        var normed = new float[m * d];
        _finalNorm.Apply(hidden, m, normed);
        Head.Forward(_context, normed, m, logits);
        kv.Advance(m);
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        if (_disposed)
            return;
        _disposed = true;
        _context.MatMul.Dispose();
        foreach (var t in _owned)
            t.Dispose();
        _directory.Dispose();
    }
}
