namespace PeftNative.Benchmarking;

/// <summary>
/// One measurement of the bandwidth harness: a kernel, its dtype(s), the shape of W (or of every
/// tensor of an affine combination / conversion) and the kernel's own parameters. It knows the
/// byte and flop counts the roofline ratio uses:
/// <list type="bullet">
/// <item><c>lowrank_merge</c>: bytes = 2 · |W| (read + write; the factors are small and ignored),
/// flops = 2 · rows · cols · rank.</item>
/// <item><c>affine</c>: bytes = (k + 1) · n · element size (reads k inputs, writes one output).</item>
/// <item><c>scale_rows</c>, <c>scale_cols</c>: bytes = 2 · |W| (l is small and ignored).</item>
/// <item><c>convert</c>: bytes = n · (source size + destination size).</item>
/// </list>
/// Only <c>lowrank_merge</c> counts flops; the others are pure bandwidth (flops = 0).
/// </summary>
public sealed record BenchCase
{
    private BenchCase(BenchKernel kernel, DType dtype, long rows, long columns)
    {
        if (!dtype.IsKernelFloat())
            throw new ArgumentException($"bench: {dtype} is not a kernel dtype (f32, f16, bf16)", nameof(dtype));
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(rows);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(columns);
        Kernel = kernel;
        DType = dtype;
        Rows = rows;
        Columns = columns;
    }

    /// <summary>The kernel measured.</summary>
    public BenchKernel Kernel { get; }

    /// <summary>The dtype of W, of the affine inputs and output, or of the conversion source.</summary>
    public DType DType { get; }

    /// <summary>The conversion destination dtype (<see cref="BenchKernel.Convert"/> only; otherwise equal to <see cref="DType"/>).</summary>
    public DType TargetDType { get; private init; }

    /// <summary>Rows of W as stored (for fan_in_fan_out: in_features).</summary>
    public long Rows { get; }

    /// <summary>Columns of W as stored.</summary>
    public long Columns { get; }

    /// <summary>The rank r of the low-rank update (<see cref="BenchKernel.LowRankMerge"/> only; otherwise 0).</summary>
    public int Rank { get; private init; }

    /// <summary>Inputs k of an affine combination; 1 for the other kernels (one W, one update, one source).</summary>
    public int Inputs { get; private init; } = 1;

    /// <summary>True when W is stored in x out (GPT-2 Conv1D, fan_in_fan_out) and the update is transposed.</summary>
    public bool FanInFanOut { get; private init; }

    /// <summary>Elements of W (rows · cols).</summary>
    public long ElementCount => Rows * Columns;

    /// <summary>The kernel's report name ("lowrank_merge", ...).</summary>
    public string KernelName => Kernel.ReportName();

    /// <summary>The dtype as the report writes it: "f32", "bf16", "f16", or "src->dst" for a conversion ("f32->bf16").</summary>
    public string DTypeText => Kernel == BenchKernel.Convert
        ? $"{DType.ShortName()}->{TargetDType.ShortName()}"
        : DType.ShortName();

    /// <summary>"MxN", the stored shape of W.</summary>
    public string ShapeText => $"{Rows}x{Columns}";

    /// <summary>Bytes the kernel must move at least (see the type's remarks).</summary>
    public long Bytes => Kernel switch
    {
        BenchKernel.LowRankMerge or BenchKernel.ScaleRows or BenchKernel.ScaleColumns => 2 * ElementCount * DType.SizeOf(),
        BenchKernel.Affine => (Inputs + 1L) * ElementCount * DType.SizeOf(),
        BenchKernel.Convert => ElementCount * (DType.SizeOf() + TargetDType.SizeOf()),
        _ => throw new InvalidOperationException($"unknown kernel {Kernel}"),
    };

    /// <summary>Floating-point operations the roofline counts: 2 · rows · cols · rank for a merge, else 0.</summary>
    public double Flops => Kernel == BenchKernel.LowRankMerge ? 2.0 * Rows * Columns * Rank : 0.0;

    /// <summary>
    /// The dtype whose compute roof applies: the factors' dtype for a merge (factors share W's dtype here).
    /// bf16 factors use max(f32 FMA probe, bf16 probe), everything else the f32 FMA probe.
    /// </summary>
    public DType ComputeDType => DType;

    /// <summary>A one-line label, e.g. "lowrank_merge bf16 4096x4096 r=16".</summary>
    public string Label => Kernel switch
    {
        BenchKernel.LowRankMerge => $"{KernelName} {DTypeText} {ShapeText} r={Rank}{(FanInFanOut ? " fan_in_fan_out" : "")}",
        BenchKernel.Affine => $"{KernelName} {DTypeText} {ShapeText} k={Inputs}",
        _ => $"{KernelName} {DTypeText} {ShapeText}",
    };

    /// <inheritdoc />
    public override string ToString() => Label;

    /// <summary>A low-rank merge <c>W += (α/r) · B @ A</c> with W (rows x cols) and factors of the same dtype.</summary>
    /// <exception cref="ArgumentException">A non-kernel dtype, a size below 1.</exception>
    public static BenchCase LowRankMerge(DType dtype, long rows, long columns, int rank, bool fanInFanOut = false)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(rank);
        return new BenchCase(BenchKernel.LowRankMerge, dtype, rows, columns) { Rank = rank, FanInFanOut = fanInFanOut, TargetDType = dtype };
    }

    /// <summary>An affine combination of <paramref name="inputs"/> tensors of shape rows x cols into a separate output of the same dtype.</summary>
    /// <exception cref="ArgumentException">A non-kernel dtype, a size below 1.</exception>
    public static BenchCase Affine(DType dtype, long rows, long columns, int inputs)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(inputs);
        return new BenchCase(BenchKernel.Affine, dtype, rows, columns) { Inputs = inputs, TargetDType = dtype };
    }

    /// <summary>(IA)^3 scaling in place, of rows (<paramref name="rowsAxis"/>) or columns, with l of W's dtype.</summary>
    /// <exception cref="ArgumentException">A non-kernel dtype, a size below 1.</exception>
    public static BenchCase Scale(DType dtype, long rows, long columns, bool rowsAxis) =>
        new(rowsAxis ? BenchKernel.ScaleRows : BenchKernel.ScaleColumns, dtype, rows, columns) { TargetDType = dtype };

    /// <summary>A conversion of rows · cols values from <paramref name="source"/> to <paramref name="destination"/> (separate buffers).</summary>
    /// <exception cref="ArgumentException">A non-kernel dtype, a size below 1.</exception>
    public static BenchCase Convert(DType source, DType destination, long rows, long columns)
    {
        if (!destination.IsKernelFloat())
            throw new ArgumentException($"bench: {destination} is not a kernel dtype (f32, f16, bf16)", nameof(destination));
        return new BenchCase(BenchKernel.Convert, source, rows, columns) { TargetDType = destination };
    }

    private static readonly DType[] KernelDTypes = [DType.F32, DType.BF16, DType.F16];

    /// <summary>
    /// The full matrix on a rows x cols W (4096 x 4096 by default): lowrank_merge f32/bf16/f16 at
    /// r = 8, 16, 64 plus fan_in_fan_out at r = 16 f32; affine k = 2, 4, 8 per dtype;
    /// scale_rows and scale_cols per dtype; convert f32->bf16, bf16->f32, f32->f16, f16->f32.
    /// </summary>
    public static IReadOnlyList<BenchCase> FullMatrix(long rows, long columns)
    {
        var cases = new List<BenchCase>();
        foreach (var d in KernelDTypes)
            foreach (int r in (int[])[8, 16, 64])
                cases.Add(LowRankMerge(d, rows, columns, r));
        cases.Add(LowRankMerge(DType.F32, rows, columns, 16, fanInFanOut: true));
        foreach (var d in KernelDTypes)
            foreach (int k in (int[])[2, 4, 8])
                cases.Add(Affine(d, rows, columns, k));
        foreach (var d in KernelDTypes)
            cases.Add(Scale(d, rows, columns, rowsAxis: true));
        foreach (var d in KernelDTypes)
            cases.Add(Scale(d, rows, columns, rowsAxis: false));
        cases.Add(Convert(DType.F32, DType.BF16, rows, columns));
        cases.Add(Convert(DType.BF16, DType.F32, rows, columns));
        cases.Add(Convert(DType.F32, DType.F16, rows, columns));
        cases.Add(Convert(DType.F16, DType.F32, rows, columns));
        return cases;
    }

    /// <summary>
    /// The --quick matrix: one or two cases per kernel (lowrank_merge f32 r=16 and r=64, bf16 r=16;
    /// affine f32 k=2, bf16 k=4; scale_rows f32; scale_cols bf16; convert f32->bf16, bf16->f32).
    /// </summary>
    public static IReadOnlyList<BenchCase> QuickMatrix(long rows, long columns) =>
    [
        LowRankMerge(DType.F32, rows, columns, 16),
        LowRankMerge(DType.F32, rows, columns, 64),
        LowRankMerge(DType.BF16, rows, columns, 16),
        Affine(DType.F32, rows, columns, 2),
        Affine(DType.BF16, rows, columns, 4),
        Scale(DType.F32, rows, columns, rowsAxis: true),
        Scale(DType.BF16, rows, columns, rowsAxis: false),
        Convert(DType.F32, DType.BF16, rows, columns),
        Convert(DType.BF16, DType.F32, rows, columns),
    ];
}
