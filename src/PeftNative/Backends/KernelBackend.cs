namespace PeftNative.Backends;

/// <summary>
/// Base of every backend: validates arguments once, in one place, then calls the backend's
/// core with arguments it can trust. The core may assume: kernel dtypes, matching shapes, no
/// forbidden overlap, finite scalars, and (for inverse scales) no zero in l.
/// </summary>
public abstract class KernelBackend : IKernelBackend
{
    /// <summary>Creates a backend with a thread count (&lt;= 0: all logical CPUs).</summary>
    protected KernelBackend(int threads) =>
        Threads = threads <= 0 ? Environment.ProcessorCount : threads;

    /// <inheritdoc />
    public abstract string Name { get; }

    /// <inheritdoc />
    public virtual string Description => $"{Threads} thread{(Threads == 1 ? "" : "s")}";

    /// <inheritdoc />
    public int Threads { get; }

    /// <inheritdoc />
    public void Affine(ReadOnlySpan<Tensor> inputs, ReadOnlySpan<float> weights, float constant, Tensor output)
    {
        if (ValidateAffine(inputs, weights, constant, output))
            AffineCore(inputs, weights, constant, output);
    }

    /// <inheritdoc />
    public bool AffineReportingNonFinite(ReadOnlySpan<Tensor> inputs, ReadOnlySpan<float> weights, float constant, Tensor output) =>
        ValidateAffine(inputs, weights, constant, output) && AffineReportingNonFiniteCore(inputs, weights, constant, output);

    /// <summary>Checks the affine arguments; false when the output is empty (nothing to do).</summary>
    private static bool ValidateAffine(ReadOnlySpan<Tensor> inputs, ReadOnlySpan<float> weights, float constant, Tensor output)
    {
        ArgumentNullException.ThrowIfNull(output);
        if (inputs.Length == 0)
            throw new ArgumentException("affine: at least one input is required", nameof(inputs));
        if (weights.Length != inputs.Length)
            throw new ArgumentException($"affine: {inputs.Length} inputs but {weights.Length} weights", nameof(weights));
        if (!float.IsFinite(constant))
            throw new ArgumentException($"affine: constant {constant} is not finite", nameof(constant));
        RequireKernelDType(output, "affine", "output");
        DType inDType = inputs[0]?.DType ?? throw new ArgumentNullException(nameof(inputs), "affine: input 0 is null");
        for (int i = 0; i < inputs.Length; i++)
        {
            Tensor x = inputs[i] ?? throw new ArgumentNullException(nameof(inputs), $"affine: input {i} is null");
            RequireKernelDType(x, "affine", $"input {i}");
            if (x.DType != inDType)
                throw new ArgumentException($"affine: input {i} is {x.DType.ShortName()} but input 0 is {inDType.ShortName()}; all inputs share one dtype", nameof(inputs));
            if (!x.Shape.SequenceEqual(output.Shape))
                throw new ArgumentException($"affine: input {i} has shape {x.ShapeText} but the output has {output.ShapeText}", nameof(inputs));
            if (!float.IsFinite(weights[i]))
                throw new ArgumentException($"affine: weight {i} ({weights[i]}) is not finite", nameof(weights));
            if (output.Overlaps(x) && !(output.IsSameMemory(x) && x.DType == output.DType))
                throw new ArgumentException($"affine: the output overlaps input {i}; only an identical buffer of the same dtype may be updated in place", nameof(output));
        }
        return output.ElementCount > 0;
    }

    /// <inheritdoc />
    public void LowRankMerge(Tensor weight, ReadOnlySpan<LowRankUpdate> updates, bool fanInFanOut)
    {
        ArgumentNullException.ThrowIfNull(weight);
        RequireKernelDType(weight, "lowrank_merge", "W");
        if (weight.Rank != 2)
            throw new ArgumentException($"lowrank_merge: W must be a matrix, got shape {weight.ShapeText}", nameof(weight));
        long outFeatures = fanInFanOut ? weight.Shape[1] : weight.Shape[0];
        long inFeatures = fanInFanOut ? weight.Shape[0] : weight.Shape[1];
        for (int k = 0; k < updates.Length; k++)
        {
            var (b, a, scale) = updates[k];
            if (b is null || a is null)
                throw new ArgumentNullException(nameof(updates), $"lowrank_merge: update {k} has a null factor");
            RequireKernelDType(b, "lowrank_merge", $"B of update {k}");
            RequireKernelDType(a, "lowrank_merge", $"A of update {k}");
            if (a.DType != b.DType)
                throw new ArgumentException($"lowrank_merge: update {k} has A in {a.DType.ShortName()} and B in {b.DType.ShortName()}; both factors share one dtype", nameof(updates));
            if (b.Rank != 2 || a.Rank != 2)
                throw new ArgumentException($"lowrank_merge: update {k} factors must be matrices (B {b.ShapeText}, A {a.ShapeText})", nameof(updates));
            if (b.Shape[1] < 1 || b.Shape[1] != a.Shape[0])
                throw new ArgumentException($"lowrank_merge: update {k} has B {b.ShapeText} and A {a.ShapeText}; B's columns must equal A's rows (the rank, >= 1)", nameof(updates));
            if (b.Shape[0] != outFeatures || a.Shape[1] != inFeatures)
                throw new ArgumentException(
                    $"lowrank_merge: update {k} (B {b.ShapeText}, A {a.ShapeText}) does not fit W {weight.ShapeText}{(fanInFanOut ? " stored in x out (fan_in_fan_out)" : "")}: expected B {outFeatures}xr and A rx{inFeatures}",
                    nameof(updates));
            if (!float.IsFinite(scale))
                throw new ArgumentException($"lowrank_merge: update {k} has a non-finite scale {scale}", nameof(updates));
            if (weight.Overlaps(a) || weight.Overlaps(b))
                throw new ArgumentException($"lowrank_merge: W overlaps a factor of update {k}", nameof(updates));
        }
        if (updates.Length == 0 || weight.ElementCount == 0)
            return;
        LowRankMergeCore(weight, updates, fanInFanOut);
    }

    /// <inheritdoc />
    public void ScaleRows(Tensor weight, Tensor scale, bool inverse)
    {
        ValidateScale(weight, scale, inverse, rows: true);
        if (weight.ElementCount == 0)
            return;
        ScaleRowsCore(weight, scale, inverse);
    }

    /// <inheritdoc />
    public void ScaleColumns(Tensor weight, Tensor scale, bool inverse)
    {
        ValidateScale(weight, scale, inverse, rows: false);
        if (weight.ElementCount == 0)
            return;
        ScaleColumnsCore(weight, scale, inverse);
    }

    /// <inheritdoc />
    public void Convert(Tensor source, Tensor destination)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(destination);
        RequireKernelDType(source, "convert", "source");
        RequireKernelDType(destination, "convert", "destination");
        if (source.ElementCount != destination.ElementCount)
            throw new ArgumentException($"convert: source has {source.ElementCount} elements ({source.ShapeText}) but destination has {destination.ElementCount} ({destination.ShapeText})", nameof(destination));
        if (destination.Overlaps(source) && !(destination.IsSameMemory(source) && source.DType.SizeOf() == destination.DType.SizeOf()))
            throw new ArgumentException("convert: source and destination overlap; only an identical buffer with the same element size may be converted in place", nameof(destination));
        if (source.ElementCount == 0)
            return;
        ConvertCore(source, destination);
    }

    /// <summary>Affine core; arguments are valid and non-empty.</summary>
    protected abstract void AffineCore(ReadOnlySpan<Tensor> inputs, ReadOnlySpan<float> weights, float constant, Tensor output);

    /// <summary>
    /// Affine core that also says whether the stored output holds NaN or ±Inf; arguments are valid
    /// and the output non-empty. By default the core, then a scan of the output; a backend that can
    /// tell from its registers overrides it.
    /// </summary>
    protected virtual bool AffineReportingNonFiniteCore(ReadOnlySpan<Tensor> inputs, ReadOnlySpan<float> weights, float constant, Tensor output)
    {
        AffineCore(inputs, weights, constant, output);
        return NonFiniteScan.IndexOf(output) >= 0;
    }

    /// <summary>Low-rank merge core; arguments are valid, W non-empty, at least one update.</summary>
    protected abstract void LowRankMergeCore(Tensor weight, ReadOnlySpan<LowRankUpdate> updates, bool fanInFanOut);

    /// <summary>Row scale core; arguments are valid and non-empty.</summary>
    protected abstract void ScaleRowsCore(Tensor weight, Tensor scale, bool inverse);

    /// <summary>Column scale core; arguments are valid and non-empty.</summary>
    protected abstract void ScaleColumnsCore(Tensor weight, Tensor scale, bool inverse);

    /// <summary>Conversion core; arguments are valid and non-empty.</summary>
    protected abstract void ConvertCore(Tensor source, Tensor destination);

    /// <summary>Releases backend resources (none by default).</summary>
    public virtual void Dispose() => GC.SuppressFinalize(this);

    /// <inheritdoc />
    public override string ToString() => $"{Name} ({Description})";

    private static void ValidateScale(Tensor weight, Tensor scale, bool inverse, bool rows)
    {
        string op = rows ? "scale_rows" : "scale_cols";
        ArgumentNullException.ThrowIfNull(weight);
        ArgumentNullException.ThrowIfNull(scale);
        RequireKernelDType(weight, op, "W");
        RequireKernelDType(scale, op, "l");
        if (weight.Rank > 2)
            throw new ArgumentException($"{op}: W must be a matrix or a vector, got shape {weight.ShapeText}", nameof(weight));
        if (scale.Rank > 1)
            throw new ArgumentException($"{op}: l must be a vector, got shape {scale.ShapeText}", nameof(scale));
        long expected = rows ? weight.Rows : weight.Columns;
        if (scale.ElementCount != expected)
            throw new ArgumentException($"{op}: l has {scale.ElementCount} values but W {weight.ShapeText} has {expected} {(rows ? "rows" : "columns")}", nameof(scale));
        if (weight.Overlaps(scale))
            throw new ArgumentException($"{op}: W overlaps l", nameof(scale));
        if (inverse)
        {
            long zero = ScalarMath.IndexOfZero(scale);
            if (zero >= 0)
                throw new ArgumentException($"{op}: cannot invert the scaling: l[{zero}] is zero", nameof(scale));
        }
    }

    private static void RequireKernelDType(Tensor t, string op, string what)
    {
        if (!t.DType.IsKernelFloat())
            throw new ArgumentException($"{op}: {what} is {t.DType}, but the kernels take f32, f16 or bf16");
    }
}
