using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Engines;
using MathNet.Numerics.LinearAlgebra;
using PeftNative.Composition;

namespace PeftNative.Benchmarks;

/// <summary>
/// svd of 8 rank-16 adapters on an n x n target to rank 16: from the factors (<see cref="LowRankSvd.Truncate"/>)
/// against the dense route (baseline: form the sum, MathNet full SVD with vectors, keep the leading factors).
/// BenchmarkDotNet's Ratio column is the speed-up. The dense route takes seconds (512: ~3 s, 1024: ~17 s on
/// 2 cores), so this suite runs few iterations; the 4096 figure comes from <c>CompositionProbe</c> (bench/README.md).
/// </summary>
[Config(typeof(KernelBenchmarkConfig))]
[SimpleJob(RunStrategy.Monitoring, launchCount: 1, warmupCount: 1, iterationCount: 3)]
public class SvdCompositionBenchmarks
{
    private const int Adapters = 8, Rank = 16, TargetRank = 16;

    private List<(Matrix<double> B, Matrix<double> A)> _terms = [];

    /// <summary>n.</summary>
    [Params(512, 1024)]
    public int Size { get; set; } = 512;

    /// <summary>Random factors, coefficients +-1/8 folded into B.</summary>
    [GlobalSetup]
    public void Setup()
    {
        var rng = new Random(Size);
        _terms = Enumerable.Range(0, Adapters).Select(i =>
        {
            double c = (i % 2 == 0 ? 1.0 : -1.0) / Adapters;
            return (Matrix<double>.Build.Dense(Size, Rank, (_, _) => c * (rng.NextDouble() * 2 - 1)),
                Matrix<double>.Build.Dense(Rank, Size, (_, _) => rng.NextDouble() * 2 - 1));
        }).ToList();
    }

    /// <summary>QR of the stacked factors + SVD of the 128 x 128 core.</summary>
    [Benchmark]
    public LowRankSvd.Result Factors() => LowRankSvd.Truncate(_terms, TargetRank);

    /// <summary>Form the n x n sum, full SVD, leading factors.</summary>
    [Benchmark(Baseline = true)]
    public Matrix<double> Dense()
    {
        var sum = Matrix<double>.Build.Dense(Size, Size);
        foreach (var (b, a) in _terms)
            sum.Add(b * a, sum);
        var svd = sum.Svd(computeVectors: true);
        return svd.U.SubMatrix(0, Size, 0, TargetRank) * Matrix<double>.Build.DenseOfDiagonalVector(svd.S.SubVector(0, TargetRank));
    }
}
