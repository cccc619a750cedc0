namespace PeftNative.Backends;

/// <summary>
/// The kernels of DESIGN.md section 3 on one backend. Every backend computes the same function
/// (f32 accumulation, one rounding when storing a 16-bit result) and is tested against
/// <see cref="Reference.ReferenceBackend"/>. Arguments are validated before anything is
/// written: a call that throws leaves every tensor as it was.
/// </summary>
public interface IKernelBackend : IDisposable
{
    /// <summary>Short name: "native-cpu", "managed", "reference" (later "ilgpu", "cuda").</summary>
    string Name { get; }

    /// <summary>What the backend runs on, e.g. "avx2, 2 threads".</summary>
    string Description { get; }

    /// <summary>Worker threads the kernels use.</summary>
    int Threads { get; }

    /// <summary>
    /// Affine combination: <c>output[j] = constant + Σ_i weights[i] · inputs[i][j]</c>.
    /// All inputs share one shape and one kernel dtype; the output has that shape and any kernel
    /// dtype. The output may be the very same memory as an input of its dtype (in-place
    /// update); any other overlap is an error.
    /// </summary>
    /// <exception cref="ArgumentException">No inputs, count or shape mismatch, non-kernel dtype,
    /// non-finite weight or constant, or overlapping memory.</exception>
    void Affine(ReadOnlySpan<Tensor> inputs, ReadOnlySpan<float> weights, float constant, Tensor output);

    /// <summary>
    /// <see cref="Affine"/> for a result the caller refuses when it holds NaN or ±Inf and does not
    /// read again soon (composed factors collected for a file): returns true when any element of
    /// <paramref name="output"/>, as stored, is NaN or ±Inf. native-cpu decides that in its registers
    /// and writes the output past the caches (no second pass over it, no read-for-ownership); this
    /// default runs <see cref="Affine"/> and then scans the output. Same arguments, rules and result.
    /// </summary>
    /// <exception cref="ArgumentException">As <see cref="Affine"/>.</exception>
    bool AffineReportingNonFinite(ReadOnlySpan<Tensor> inputs, ReadOnlySpan<float> weights, float constant, Tensor output)
    {
        Affine(inputs, weights, constant, output);
        return output.ElementCount > 0 && NonFiniteScan.IndexOf(output) >= 0;
    }

    /// <summary>
    /// Multi-adapter low-rank merge in place, one pass over W:
    /// <c>W += Σ_k s_k · B_k @ A_k</c>, with W of shape (out, in); or, when
    /// <paramref name="fanInFanOut"/> is true (GPT-2 Conv1D weights stored in × out),
    /// <c>W += (Σ_k s_k · B_k @ A_k)ᵀ</c> with W of shape (in, out).
    /// </summary>
    /// <exception cref="ArgumentException">Shapes disagree, a non-kernel dtype, a non-finite
    /// scale, or W overlaps a factor.</exception>
    void LowRankMerge(Tensor weight, ReadOnlySpan<LowRankUpdate> updates, bool fanInFanOut);

    /// <summary>
    /// (IA)^3 row scaling in place: <c>W[i, j] *= l[i]</c>, or <c>W[i, j] /= l[i]</c> when
    /// <paramref name="inverse"/> (computed as a multiplication by 1/l rounded to f32).
    /// W is (rows, cols) (a 1-D tensor is one row); l has <c>rows</c> values.
    /// </summary>
    /// <exception cref="ArgumentException">Length mismatch, non-kernel dtype, overlap, or a zero
    /// in l for an inverse (named by index).</exception>
    void ScaleRows(Tensor weight, Tensor scale, bool inverse);

    /// <summary>(IA)^3 column scaling in place: <c>W[i, j] *= l[j]</c> (or divides). l has <c>cols</c> values.</summary>
    /// <exception cref="ArgumentException">As for <see cref="ScaleRows"/>.</exception>
    void ScaleColumns(Tensor weight, Tensor scale, bool inverse);

    /// <summary>
    /// dtype conversion f32 ↔ f16 ↔ bf16 (same-dtype copy too): round to nearest even, f16
    /// overflow to ±Inf, NaN stays NaN. Source and destination have equal element counts and
    /// must not overlap unless identical with equal element sizes.
    /// </summary>
    /// <exception cref="ArgumentException">Count mismatch, non-kernel dtype, or overlap.</exception>
    void Convert(Tensor source, Tensor destination);
}
