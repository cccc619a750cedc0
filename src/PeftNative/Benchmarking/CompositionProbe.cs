using System.Diagnostics;
using System.Globalization;
using MathNet.Numerics.LinearAlgebra;
using PeftNative.Backends;
using PeftNative.Composition;

namespace PeftNative.Benchmarking;

/// <summary>
/// The two composition figures, each measured against its baseline in one run:
/// <list type="number">
/// <item>svd from the factors against the dense route (<see cref="SvdRouteComparison"/>): the issue's
/// target is at least 100x at 8 rank-16 adapters on 4096 x 4096, with the leading singular values equal
/// to 1e-4 relative;</item>
/// <item>the paper method on the adapters of a 32-layer, 4096-hidden model against the memory probe
/// (<see cref="PaperCompositionMeasurement"/>): target roofline at least 0.7. The composer is timed, and
/// so are the affine calls the paper method makes (A: weights |c_i|, B: weights c_i, one
/// call per factor per module, into outputs allocated once) are always timed too — the kernel floor.</item>
/// </list>
/// </summary>
public static class CompositionProbe
{
    /// <summary>Runs what <paramref name="options"/> asks for.</summary>
    /// <exception cref="ArgumentException">Bad settings or an unknown backend.</exception>
    /// <exception cref="OperationCanceledException">Cancelled (between steps).</exception>
    public static CompositionProbeResult Measure(CompositionProbeOptions? options = null, CancellationToken cancellationToken = default)
    {
        options ??= new CompositionProbeOptions();
        options.Validate();
        var notes = new List<string>();
        // The paper method first: the svd step's dense route runs both cores flat out for minutes
        // and leaves gigabytes of float64 garbage, after which memory-bound timings read 10-40% lower.
        var paper = new List<PaperCompositionMeasurement>();
        ProbeResult? probe = null;
        if (options.MeasurePaper)
            (paper, probe) = MeasurePaper(options, notes, cancellationToken);
        var svd = new List<SvdRouteComparison>();
        if (options.MeasureSvd)
        {
            foreach (int n in options.SvdSizes)
            {
                cancellationToken.ThrowIfCancellationRequested();
                options.Progress?.Invoke(string.Create(CultureInfo.InvariantCulture, $"svd {n}x{n}: factor route, then the dense route (full SVD)"));
                svd.Add(CompareSvd(n, options));
            }
            notes.Add("svd: float64 matrices in memory, coefficients folded into B; factor route = LowRankSvd.Truncate (best of " +
                options.SvdRepeats.ToString(CultureInfo.InvariantCulture) + "); dense route = form the n x n sum + MathNet Svd(computeVectors: true) + keep the leading factors (one run); " +
                "MathNet's managed provider (no MKL/LAPACK): a LAPACK dense SVD is several times faster, so the ratio is against this library's own dense route");
        }
        return new CompositionProbeResult { Svd = svd, Paper = paper, Probe = probe, Notes = notes };
    }

    /// <summary>The svd comparison at one size.</summary>
    public static SvdRouteComparison CompareSvd(int size, CompositionProbeOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentOutOfRangeException.ThrowIfLessThan(size, 1);
        var rng = new Random(size);
        var terms = new List<(Matrix<double> B, Matrix<double> A)>();
        for (int i = 0; i < options.SvdAdapters; i++)
        {
            double c = (i % 2 == 0 ? 1.0 : -1.0) / options.SvdAdapters;
            terms.Add((Matrix<double>.Build.Dense(size, options.SvdRank, (_, _) => c * (rng.NextDouble() * 2 - 1)),
                Matrix<double>.Build.Dense(options.SvdRank, size, (_, _) => rng.NextDouble() * 2 - 1)));
        }

        LowRankSvd.Result? ours = null;
        double factorSeconds = double.MaxValue;
        for (int run = 0; run <= options.SvdRepeats; run++)
        {
            long t0 = Stopwatch.GetTimestamp();
            ours = LowRankSvd.Truncate(terms, options.SvdTargetRank);
            double s = Stopwatch.GetElapsedTime(t0).TotalSeconds;
            if (run > 0) // the first run pays JIT and first-touch
                factorSeconds = Math.Min(factorSeconds, s);
        }

        long d0 = Stopwatch.GetTimestamp();
        var sum = Matrix<double>.Build.Dense(size, size);
        var product = Matrix<double>.Build.Dense(size, size);
        foreach (var (b, a) in terms)
        {
            b.Multiply(a, product);
            sum.Add(product, sum);
        }
        double sumSeconds = Stopwatch.GetElapsedTime(d0).TotalSeconds;
        var dense = sum.Svd(computeVectors: true);
        int k = Math.Min(options.SvdTargetRank, dense.S.Count);
        // the dense route's output, as the factor route gives it: B = U_k S_k, A = V_k^T
        var denseB = dense.U.SubMatrix(0, size, 0, k) * Matrix<double>.Build.DenseOfDiagonalVector(dense.S.SubVector(0, k));
        var denseA = dense.VT.SubMatrix(0, k, 0, size);
        double denseSeconds = Stopwatch.GetElapsedTime(d0).TotalSeconds;
        GC.KeepAlive(denseB);
        GC.KeepAlive(denseA);

        double worst = 0;
        for (int i = 0; i < k; i++)
            worst = Math.Max(worst, Math.Abs(ours!.SingularValues[i] - dense.S[i]) / dense.S[i]);
        return new SvdRouteComparison
        {
            Size = size,
            Adapters = options.SvdAdapters,
            Rank = options.SvdRank,
            TargetRank = options.SvdTargetRank,
            FactorSeconds = BandwidthHarness.RoundSignificant(factorSeconds, 4),
            DenseSeconds = BandwidthHarness.RoundSignificant(denseSeconds, 4),
            DenseSumSeconds = BandwidthHarness.RoundSignificant(sumSeconds, 4),
            Ratio = BandwidthHarness.RoundSignificant(denseSeconds / factorSeconds, 4),
            LeadingSingularValueDifference = worst,
        };
    }

    private static (List<PaperCompositionMeasurement>, ProbeResult) MeasurePaper(CompositionProbeOptions o, List<string> notes, CancellationToken cancellationToken)
    {
        int threads = o.Threads > 0 ? o.Threads : Environment.ProcessorCount;
        o.Progress?.Invoke("paper: memory probe");
        var probe = ProbeMemory(o, threads);

        using var backend = KernelBackendFactory.Create(o.Backend, threads);
        // Single-threaded kernels with the modules spread over the threads: a module's factors are
        // small (a rank-16 A of a 4096-wide target is 128 KiB in bf16), and one multi-threaded kernel
        // call per factor pays the pool's wake-up and join each time.
        using var single = KernelBackendFactory.Create(o.Backend, 1);
        o.Progress?.Invoke("paper: allocating the adapters' factors");
        using var work = new PaperCompositionWorkload(o.Layers, o.Hidden, o.Intermediate, o.Adapters, o.Rank, o.DType);

        o.Progress?.Invoke("paper: bringing the composer's code to its optimised tier");
        WarmUpComposer(o, single, cancellationToken);
        o.Progress?.Invoke("paper: composer and the affine routes, interleaved");
        long outBytes = 0;
        var timed = TimeInterleaved(o.Repeats, cancellationToken,
            () =>
            {
                // The composer spreads modules over threads itself; its default backend is single-threaded.
                using var result = work.Compose(single, cancellationToken);
                outBytes = result.Adapter.LoraModules.Values.Sum(m => m.A.ByteLength + m.B.ByteLength);
            },
            () => work.Affine(backend),
            () => work.AffineParallelModules(single, threads));
        var composer = (timed[0].Best, timed[0].Median, Bytes: work.Bytes / (o.Adapters + 1) * o.Adapters + outBytes);
        var affine = timed[1];
        var spread = timed[2];

        o.Progress?.Invoke("paper: memory probe again");
        probe = MachineProbe.Combine(probe, ProbeMemory(o, threads));
        var results = new List<PaperCompositionMeasurement>();
        results.Add(Result("composer", composer.Best, composer.Median, composer.Bytes));
        results.Add(Result("affine", affine.Best, affine.Median, work.Bytes));
        results.Add(Result("affine-parallel-modules", spread.Best, spread.Median, work.Bytes));
        notes.Add(string.Create(CultureInfo.InvariantCulture,
            $"paper: {o.Layers} layers x 7 targets (q/k/v/o {o.Hidden}x{o.Hidden}, gate/up {o.Intermediate}x{o.Hidden}, down {o.Hidden}x{o.Intermediate}), {o.Adapters} adapters of rank {o.Rank}, " +
            $"{o.DType.ShortName()}, coefficients +-1/{o.Adapters}; best of {o.Repeats} (the routes interleaved) after one warm-up (the composer's code first brought to its final JIT tier, as in a service that composes repeatedly: {WarmUpRounds} rounds of {WarmUpCallsPerRound} two-layer compositions, {WarmUpPauseMilliseconds} ms apart); bytes = inputs read once + outputs written once; memory roof {probe.MemGbps} GB/s ({probe.Source}, best of two probe rounds)"));
        return (results, probe);

        PaperCompositionMeasurement Result(string route, double best, double median, long routeBytes) => new()
        {
            Route = route,
            Backend = backend.Name,
            DType = o.DType.ShortName(),
            Modules = work.Targets.Count,
            Adapters = o.Adapters,
            Rank = o.Rank,
            Bytes = routeBytes,
            Seconds = BandwidthHarness.RoundSignificant(best, 5),
            MedianSeconds = BandwidthHarness.RoundSignificant(median, 5),
            Gbps = BandwidthHarness.RoundSignificant(routeBytes / best / 1e9, 4),
            Roofline = BandwidthHarness.RoundSignificant(routeBytes / (probe.MemGbps * 1e9) / best, 3),
        };
    }

    /// <summary>
    /// Composes a small model (2 layers, the same adapters and rank) in rounds until the runtime has
    /// recompiled the composer's code at its final, optimised tier: tiered compilation starts each
    /// method unoptimised, then instrumented, and recompiles it after about 30 calls once no new code
    /// was compiled for 100 ms. A service that composes repeatedly runs that code; a handful of timed
    /// runs of one large composition would otherwise time unoptimised setup and bookkeeping (measured:
    /// 7 ms of bookkeeping per 224-module composition at the first tiers, under 3 ms at the last).
    /// A fixed schedule, long enough on this 2-core machine (a shorter one, or stopping when the small
    /// composition's time held steady, left the large one at the intermediate tiers). The kernels are
    /// native, or managed loops compiled optimised at once, so this changes no kernel.
    /// </summary>
    private static void WarmUpComposer(CompositionProbeOptions o, IKernelBackend backend, CancellationToken cancellationToken)
    {
        using var small = new PaperCompositionWorkload(2, Math.Min(o.Hidden, 256), Math.Min(o.Intermediate, 512), o.Adapters, o.Rank, o.DType);
        for (int round = 0; round < WarmUpRounds; round++)
        {
            for (int i = 0; i < WarmUpCallsPerRound; i++)
            {
                cancellationToken.ThrowIfCancellationRequested();
                small.Compose(backend, cancellationToken).Dispose();
            }
            Thread.Sleep(WarmUpPauseMilliseconds); // the tiering delay must pass with nothing new to compile
        }
    }

    private const int WarmUpRounds = 8;
    private const int WarmUpCallsPerRound = 40;
    private const int WarmUpPauseMilliseconds = 400;

    /// <summary>
    /// Times each route <paramref name="repeats"/> times, one run of each in turn, after one untimed
    /// run of each (JIT, first touch of the outputs): a busy spell on this shared machine then slows
    /// one run of every route rather than every run of one.
    /// </summary>
    private static (double Best, double Median)[] TimeInterleaved(int repeats, CancellationToken cancellationToken, params Action[] routes)
    {
        foreach (var run in routes)
            run();
        var times = new double[routes.Length][];
        for (int r = 0; r < routes.Length; r++)
            times[r] = new double[repeats];
        for (int i = 0; i < repeats; i++)
        {
            for (int r = 0; r < routes.Length; r++)
            {
                cancellationToken.ThrowIfCancellationRequested();
                long t0 = Stopwatch.GetTimestamp();
                routes[r]();
                times[r][i] = Stopwatch.GetElapsedTime(t0).TotalSeconds;
            }
        }
        return times.Select(t =>
        {
            Array.Sort(t);
            return (t[0], t[repeats / 2]);
        }).ToArray();
    }

    private static ProbeResult ProbeMemory(CompositionProbeOptions o, int threads)
    {
        using var pool = new ColdPool(o.ProbeBytes, threads);
        return MachineProbe.Measure(pool.At(0), Math.Min(o.ProbeBytes, pool.Capacity), threads, o.ProbeRepeats, 20);
    }
}
