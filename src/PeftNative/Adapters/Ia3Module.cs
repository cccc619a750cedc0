namespace PeftNative.Adapters;

/// <summary>
/// One (IA)^3 module: a vector l scaling features of one base weight W [out, in]. Feed-forward
/// modules scale the INPUT features (l has shape [1, in]: columns of W, bias untouched); the others
/// scale the OUTPUT features (l has shape [out, 1]: rows of W and the bias). For Conv1D weights
/// (stored [in, out], <see cref="FanInFanOut"/>) rows and columns swap. Shapes follow
/// src/peft/tuners/ia3/layer.py update_layer.
/// </summary>
public sealed class Ia3Module
{
    /// <summary>Creates a module, checking the vector's orientation.</summary>
    /// <exception cref="ArgumentException">The vector is not [1, n] for a feed-forward module or [n, 1] otherwise, or not F32/F16/BF16.</exception>
    public Ia3Module(string modulePath, Tensor vector, bool isFeedForward, bool fanInFanOut = false)
    {
        ArgumentException.ThrowIfNullOrEmpty(modulePath);
        ArgumentNullException.ThrowIfNull(vector);
        string? problem = CheckVector(vector.Shape, vector.DType, isFeedForward);
        if (problem is not null)
            throw new ArgumentException($"IA3 module {modulePath}: {problem}");
        ModulePath = modulePath;
        Vector = vector;
        IsFeedForward = isFeedForward;
        FanInFanOut = fanInFanOut;
    }

    /// <summary>Path of the target module in the base model.</summary>
    public string ModulePath { get; }

    /// <summary>l: [1, in] for feed-forward modules, [out, 1] otherwise.</summary>
    public Tensor Vector { get; }

    /// <summary>Number of features scaled (in for feed-forward modules, out otherwise).</summary>
    public long Length => Vector.ElementCount;

    /// <summary>The vector scales input features (a feed-forward module, e.g. down_proj, mlp.c_proj).</summary>
    public bool IsFeedForward { get; }

    /// <summary>Output features are scaled (keys, values, fused c_attn); the base bias is scaled too.</summary>
    public bool ScalesOutput => !IsFeedForward;

    /// <summary>The base weight is a Conv1D stored [in, out], so the scaled axis is swapped.</summary>
    public bool FanInFanOut { get; }

    /// <summary>The name PEFT saves the vector under.</summary>
    public string TensorName => AdapterTensorNames.Format(ModulePath, AdapterTensorKind.Ia3Vector);

    /// <summary>A module with the feed-forward flag and fan_in_fan_out the config gives the path.</summary>
    /// <exception cref="ArgumentException">The vector's orientation disagrees with the config, or the config is not IA3.</exception>
    public static Ia3Module FromConfig(AdapterConfig config, string modulePath, Tensor vector)
    {
        ArgumentNullException.ThrowIfNull(config);
        if (config.PeftType != PeftType.Ia3)
            throw new ArgumentException("the config is not an IA3 config", nameof(config));
        return new Ia3Module(modulePath, vector, config.IsFeedForward(modulePath), config.FanInFanOut);
    }

    /// <summary>Null when the shape fits the orientation, else what is wrong.</summary>
    internal static string? CheckVector(ReadOnlySpan<long> shape, DType dtype, bool isFeedForward)
    {
        if (!dtype.IsKernelFloat())
            return $"ia3_l must be F32, F16 or BF16, got {dtype}";
        bool ok = shape.Length == 2 && (isFeedForward ? shape[0] == 1 && shape[1] > 0 : shape[1] == 1 && shape[0] > 0);
        if (ok)
            return null;
        return isFeedForward
            ? $"ia3_l of a feed-forward module must be [1, in_features], got {LoraModule.ShapeText(shape)}"
            : $"ia3_l of a non-feed-forward module must be [out_features, 1], got {LoraModule.ShapeText(shape)}";
    }
}
