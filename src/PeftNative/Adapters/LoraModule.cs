namespace PeftNative.Adapters;

/// <summary>
/// One LoRA module: the factors attached to one base weight W and how they scale.
/// A is [r, in], B is [out, r], the update is dW = s * B @ A with s = alpha / r (alpha / sqrt(r)
/// with rsLoRA). When the base stores W as [in, out] — GPT-2 Conv1D with fan_in_fan_out, or an
/// embedding (A is [r, num_embeddings], B is [embedding_dim, r], and PEFT's
/// Embedding.get_delta_weight returns (B @ A)^T * s) — the update is transposed
/// (<see cref="UpdateIsTransposed"/>). Tensors may be views into a mapped file; the owning
/// <see cref="PeftAdapter"/> keeps them alive.
/// </summary>
public sealed class LoraModule
{
    /// <summary>Creates a module, checking that the factors fit together.</summary>
    /// <param name="modulePath">Path of the target in the base model, e.g. <c>model.layers.0.self_attn.q_proj</c>.</param>
    /// <param name="a">A, [r, in] (for embeddings [r, num_embeddings]).</param>
    /// <param name="b">B, [out, r] (for embeddings [embedding_dim, r]).</param>
    /// <param name="alpha">This module's alpha (lora_alpha, or its alpha_pattern value).</param>
    /// <param name="useRsLora">Scale by alpha / sqrt(r) instead of alpha / r.</param>
    /// <param name="fanInFanOut">The base weight is a Conv1D stored [in, out] (ignored for embeddings, as PEFT does).</param>
    /// <param name="isEmbedding">The target is an embedding (tensors saved as lora_embedding_A/B).</param>
    /// <param name="bBias">lora_B's bias [out] (configs with lora_bias), or null.</param>
    /// <exception cref="ArgumentException">A factor is not 2-D, the ranks of A and B differ, the rank is 0, a dtype is not F32/F16/BF16, or the bias length is not out.</exception>
    public LoraModule(string modulePath, Tensor a, Tensor b, double alpha, bool useRsLora = false, bool fanInFanOut = false,
        bool isEmbedding = false, Tensor? bBias = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(modulePath);
        ArgumentNullException.ThrowIfNull(a);
        ArgumentNullException.ThrowIfNull(b);
        string? problem = CheckFactors(a.Shape, a.DType, b.Shape, b.DType);
        if (problem is not null)
            throw new ArgumentException($"LoRA module {modulePath}: {problem}");
        if (bBias is not null && (bBias.Rank != 1 || bBias.Shape[0] != b.Shape[0] || !bBias.DType.IsKernelFloat()))
            throw new ArgumentException($"LoRA module {modulePath}: lora_B bias must be a float vector of {b.Shape[0]} elements, got {bBias.DType} {bBias.ShapeText}");
        if (!double.IsFinite(alpha))
            throw new ArgumentOutOfRangeException(nameof(alpha), alpha, "alpha must be finite");
        ModulePath = modulePath;
        A = a;
        B = b;
        Alpha = alpha;
        UseRsLora = useRsLora;
        IsEmbedding = isEmbedding;
        FanInFanOut = fanInFanOut && !isEmbedding;
        BBias = bBias;
        Scaling = ComputeScaling(alpha, Rank, useRsLora);
    }

    /// <summary>Path of the target module in the base model.</summary>
    public string ModulePath { get; }

    /// <summary>A, [r, in].</summary>
    public Tensor A { get; }

    /// <summary>B, [out, r].</summary>
    public Tensor B { get; }

    /// <summary>lora_B's bias [out], or null.</summary>
    public Tensor? BBias { get; }

    /// <summary>The rank r (rows of A).</summary>
    public int Rank => (int)A.Shape[0];

    /// <summary>Input features of the update (columns of A; num_embeddings for an embedding).</summary>
    public long InFeatures => A.Shape[1];

    /// <summary>Output features of the update (rows of B; embedding_dim for an embedding).</summary>
    public long OutFeatures => B.Shape[0];

    /// <summary>Alpha of this module.</summary>
    public double Alpha { get; }

    /// <summary>True when scaling is alpha / sqrt(r).</summary>
    public bool UseRsLora { get; }

    /// <summary>s: alpha / r, or alpha / sqrt(r) with rsLoRA.</summary>
    public double Scaling { get; }

    /// <summary>The base weight is a Conv1D stored [in, out] (never true for embeddings).</summary>
    public bool FanInFanOut { get; }

    /// <summary>The target is an embedding.</summary>
    public bool IsEmbedding { get; }

    /// <summary>True when the base weight is stored [in, out] (Conv1D with fan_in_fan_out, or an embedding), so W' = W + (s B A)^T.</summary>
    public bool UpdateIsTransposed => FanInFanOut || IsEmbedding;

    /// <summary>The name PEFT saves A under.</summary>
    public string ATensorName => AdapterTensorNames.Format(ModulePath, IsEmbedding ? AdapterTensorKind.LoraEmbeddingA : AdapterTensorKind.LoraA);

    /// <summary>The name PEFT saves B under.</summary>
    public string BTensorName => AdapterTensorNames.Format(ModulePath, IsEmbedding ? AdapterTensorKind.LoraEmbeddingB : AdapterTensorKind.LoraB);

    /// <summary>
    /// A module for <paramref name="modulePath"/> with the alpha, rsLoRA and fan_in_fan_out the
    /// config gives it (its rank comes from <paramref name="a"/> and must be the config's; see
    /// <see cref="PeftAdapter.Create"/>).
    /// </summary>
    /// <exception cref="ArgumentException">The factors do not fit (see the constructor), or the config is not LoRA.</exception>
    public static LoraModule FromConfig(AdapterConfig config, string modulePath, Tensor a, Tensor b, bool isEmbedding = false, Tensor? bBias = null)
    {
        ArgumentNullException.ThrowIfNull(config);
        if (config.PeftType != PeftType.Lora)
            throw new ArgumentException("the config is not a LoRA config", nameof(config));
        return new LoraModule(modulePath, a, b, config.AlphaFor(modulePath), config.UseRsLora, config.FanInFanOut, isEmbedding, bBias);
    }

    /// <summary>s = alpha / r, or alpha / sqrt(r) with rsLoRA (src/peft/tuners/lora/layer.py update_layer).</summary>
    public static double ComputeScaling(double alpha, int rank, bool useRsLora)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(rank);
        return useRsLora ? alpha / Math.Sqrt(rank) : alpha / rank;
    }

    /// <summary>Null when A [r, in] and B [out, r] fit together, else what is wrong.</summary>
    internal static string? CheckFactors(ReadOnlySpan<long> a, DType aType, ReadOnlySpan<long> b, DType bType)
    {
        if (a.Length != 2)
            return $"A must be 2-D [r, in], got {ShapeText(a)} (convolution LoRA is not supported)";
        if (b.Length != 2)
            return $"B must be 2-D [out, r], got {ShapeText(b)} (convolution LoRA is not supported)";
        if (a[0] != b[1])
            return $"A is {ShapeText(a)} (rank {a[0]}) but B is {ShapeText(b)} (rank {b[1]}): the ranks must agree";
        if (a[0] <= 0 || a[0] > int.MaxValue)
            return $"rank {a[0]} is not a positive rank";
        if (a[1] <= 0 || b[0] <= 0)
            return $"A {ShapeText(a)} and B {ShapeText(b)} must have non-empty feature dimensions";
        if (!aType.IsKernelFloat() || !bType.IsKernelFloat())
            return $"factors must be F32, F16 or BF16, got A {aType} and B {bType}";
        return null;
    }

    internal static string ShapeText(ReadOnlySpan<long> shape) => shape.Length == 0 ? "scalar" : "[" + string.Join(", ", shape.ToArray()) + "]";
}
