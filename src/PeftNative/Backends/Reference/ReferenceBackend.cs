namespace PeftNative.Backends.Reference;

/// <summary>
/// The oracle every backend is tested against: plain loops, float64 accumulation, one rounding
/// to the output dtype at the end (via f32 for 16-bit outputs), inverse scales as true
/// divisions. Single-threaded and slow on purpose; no vector code, no tricks.
/// </summary>
public sealed class ReferenceBackend : KernelBackend
{
    /// <summary>Creates the reference backend (always one thread; the argument is recorded only).</summary>
    public ReferenceBackend(int threads = 1) : base(1) { _ = threads; }

    /// <inheritdoc />
    public override string Name => "reference";

    /// <inheritdoc />
    public override string Description => "float64 loops, 1 thread";

    /// <inheritdoc />
    protected override void AffineCore(ReadOnlySpan<Tensor> inputs, ReadOnlySpan<float> weights, float constant, Tensor output)
    {
        long n = output.ElementCount;
        // Read every input before writing: the output may be one of the inputs.
        var result = new double[n];
        for (long j = 0; j < n; j++)
        {
            double acc = constant;
            for (int i = 0; i < inputs.Length; i++)
                acc += (double)weights[i] * ScalarMath.Load(inputs[i].Pointer, inputs[i].DType, j);
            result[j] = acc;
        }
        for (long j = 0; j < n; j++)
            ScalarMath.Store(output.Pointer, output.DType, j, (float)result[j]);
    }

    /// <inheritdoc />
    protected override void LowRankMergeCore(Tensor weight, ReadOnlySpan<LowRankUpdate> updates, bool fanInFanOut)
    {
        long outFeatures = fanInFanOut ? weight.Shape[1] : weight.Shape[0];
        long inFeatures = fanInFanOut ? weight.Shape[0] : weight.Shape[1];
        for (long o = 0; o < outFeatures; o++)
        {
            for (long i = 0; i < inFeatures; i++)
            {
                long index = fanInFanOut ? i * outFeatures + o : o * inFeatures + i;
                double acc = ScalarMath.Load(weight.Pointer, weight.DType, index);
                foreach (var (b, a, scale) in updates)
                {
                    long rank = b.Shape[1];
                    double dot = 0;
                    for (long r = 0; r < rank; r++)
                        dot += (double)ScalarMath.Load(b.Pointer, b.DType, o * rank + r) * ScalarMath.Load(a.Pointer, a.DType, r * inFeatures + i);
                    acc += scale * dot;
                }
                ScalarMath.Store(weight.Pointer, weight.DType, index, (float)acc);
            }
        }
    }

    /// <inheritdoc />
    protected override void ScaleRowsCore(Tensor weight, Tensor scale, bool inverse) => Scale(weight, scale, inverse, rows: true);

    /// <inheritdoc />
    protected override void ScaleColumnsCore(Tensor weight, Tensor scale, bool inverse) => Scale(weight, scale, inverse, rows: false);

    /// <inheritdoc />
    protected override void ConvertCore(Tensor source, Tensor destination)
    {
        long n = source.ElementCount;
        var values = new float[n]; // in-place conversion reads everything first
        for (long j = 0; j < n; j++)
            values[j] = ScalarMath.Load(source.Pointer, source.DType, j);
        for (long j = 0; j < n; j++)
            ScalarMath.Store(destination.Pointer, destination.DType, j, values[j]);
    }

    private static void Scale(Tensor weight, Tensor scale, bool inverse, bool rows)
    {
        long rowCount = weight.Rows, cols = weight.Columns;
        for (long r = 0; r < rowCount; r++)
        {
            for (long c = 0; c < cols; c++)
            {
                double l = ScalarMath.Load(scale.Pointer, scale.DType, rows ? r : c);
                long index = r * cols + c;
                double w = ScalarMath.Load(weight.Pointer, weight.DType, index);
                ScalarMath.Store(weight.Pointer, weight.DType, index, (float)(inverse ? w / l : w * l));
            }
        }
    }
}
