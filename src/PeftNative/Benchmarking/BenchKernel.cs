namespace PeftNative.Benchmarking;

/// <summary>The kernels of DESIGN.md section 3 that the bandwidth harness measures.</summary>
public enum BenchKernel
{
    /// <summary><c>out = c + Σ w_i · x_i</c> over k inputs ("affine").</summary>
    Affine,
    /// <summary><c>W += s · B @ A</c> in place ("lowrank_merge").</summary>
    LowRankMerge,
    /// <summary><c>W[i, j] *= l[i]</c> in place ("scale_rows").</summary>
    ScaleRows,
    /// <summary><c>W[i, j] *= l[j]</c> in place ("scale_cols").</summary>
    ScaleColumns,
    /// <summary>dtype conversion ("convert").</summary>
    Convert,
}

/// <summary>Names of <see cref="BenchKernel"/> values as the report writes them.</summary>
public static class BenchKernelNames
{
    /// <summary>The report name: "affine", "lowrank_merge", "scale_rows", "scale_cols" or "convert".</summary>
    /// <exception cref="ArgumentOutOfRangeException">Not a defined kernel.</exception>
    public static string ReportName(this BenchKernel kernel) => kernel switch
    {
        BenchKernel.Affine => "affine",
        BenchKernel.LowRankMerge => "lowrank_merge",
        BenchKernel.ScaleRows => "scale_rows",
        BenchKernel.ScaleColumns => "scale_cols",
        BenchKernel.Convert => "convert",
        _ => throw new ArgumentOutOfRangeException(nameof(kernel), kernel, "unknown kernel"),
    };
}
