using PeftNative.Backends;

namespace PeftNative.Composition;

/// <summary>Options of <see cref="AdapterComposer.Compose"/>.</summary>
public sealed record CompositionOptions
{
    /// <summary>The method (default: the paper's).</summary>
    public CompositionMethod Method { get; init; } = CompositionMethod.Paper;

    /// <summary>Target rank of the SVD methods (default: the largest input rank).</summary>
    public int? Rank { get; init; }

    /// <summary>Fraction kept by ties, dare and magnitude_prune (0 &lt; density &lt;= 1; default 1).</summary>
    public double Density { get; init; } = 1.0;

    /// <summary>TIES sign election (default total).</summary>
    public MajoritySignMethod MajoritySign { get; init; } = MajoritySignMethod.Total;

    /// <summary>PEFT's svd_clamp: clamp the SVD factors to this quantile of their absolute values (null: no clamp).</summary>
    public double? SvdClamp { get; init; }

    /// <summary>Seed of the DARE masks (the same seed gives the same masks on every backend and run).</summary>
    public ulong Seed { get; init; }

    /// <summary>Keep the paper method's coefficients as written (no rescaling to sum 1).</summary>
    public bool RawWeights { get; init; }

    /// <summary>Adapters with different target modules: true = union (a missing module is a zero update), false = error.</summary>
    public bool UnionTargets { get; init; }

    /// <summary>
    /// Kernel backend for the bulk arithmetic (default: <see cref="KernelBackendFactory.Create"/> with one thread,
    /// since modules are composed in parallel; a multi-threaded backend given here still works).
    /// </summary>
    public IKernelBackend? Backend { get; init; }

    /// <summary>Allow non-finite values in the result (default: refused with the module named).</summary>
    public bool AllowNonFinite { get; init; }
}
