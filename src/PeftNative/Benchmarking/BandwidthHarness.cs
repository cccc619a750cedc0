using System.Diagnostics;
using PeftNative.Backends;
using PeftNative.Backends.Cuda;
using PeftNative.Backends.Ilgpu;
using PeftNative.Backends.Managed;
using PeftNative.Backends.NativeCpu;
using PeftNative.Backends.Reference;

namespace PeftNative.Benchmarking;

/// <summary>
/// The bandwidth-ratio harness behind <c>peftnative bench</c>. In one run it measures the
/// machine's roofs (<see cref="MachineProbe"/>) and then every case on every backend, cold:
/// each timed run works on another copy of the case's buffers from a set of at least
/// <see cref="BenchOptions.ColdSetBytes"/> (1 GiB), because a 4096 x 4096 W re-merged in place sits
/// partly in the L3 cache and looks up to twice as fast as memory allows. All buffers are
/// allocated and touched once, outside the timed region. Each case gets
/// <see cref="BenchOptions.WarmupRuns"/> untimed runs, then the timed runs (Stopwatch);
/// <c>seconds</c> is the best of them, <c>median_seconds</c> the median.
/// <para>
/// roofline = max(bytes / memory probe, flops / compute probe) / seconds, where the compute probe is
/// the f32 FMA probe, or max(f32 FMA probe, bf16 probe) for bf16 factors — a kernel that widens
/// bf16 to f32 runs at the f32 FMA rate.
/// </para>
/// </summary>
public static class BandwidthHarness
{
    /// <summary>Runs the probes and every case; never throws for a kernel that fails (it is listed in <see cref="BenchReport.Errors"/>).</summary>
    /// <exception cref="ArgumentException">Bad settings, an unknown backend, or a backend named in
    /// <see cref="BenchOptions.Backends"/> that cannot be created here (the message says why).</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled (checked between cases).</exception>
    public static BenchReport Run(BenchOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        int threads = options.EffectiveThreads;
        var notes = new List<string>();
        var backends = CreateBackends(options, threads, notes);
        try
        {
            var plan = backends.Select(b => (Backend: b, Cases: options.CasesFor(b.Name))).ToList();
            long poolBytes = options.EffectiveProbeBytes;
            foreach (var (_, cases) in plan)
                foreach (var c in cases)
                    poolBytes = Math.Max(poolBytes, Math.Max(options.ColdSetBytes, 2 * SetBytes(c)));

            options.Progress?.Invoke($"allocating and touching the cold set ({poolBytes / (1 << 20)} MiB)");
            using var pool = new ColdPool(poolBytes, threads);

            options.Progress?.Invoke("probing memory, f32 FMA and bf16 dot throughput");
            long probeBytes = Math.Min(options.EffectiveProbeBytes, pool.Capacity);
            var probe = MachineProbe.Measure(pool.At(0), probeBytes, threads, options.EffectiveProbeRepeats,
                options.EffectiveProbeMilliseconds, preferNative: !options.ManagedProbes, crossCheck: options.ProbeCrossCheck);

            var measured = new List<(BenchCase Case, BenchResult Result)>();
            var errors = new List<BenchError>();
            int total = plan.Sum(p => p.Cases.Count), done = 0;
            foreach (var (backend, cases) in plan)
            {
                foreach (var c in cases)
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    options.Progress?.Invoke($"[{++done}/{total}] {backend.Name} {c.Label}");
                    try
                    {
                        measured.Add((c, Measure(backend, c, pool, options, threads)));
                    }
#pragma warning disable CA1031 // a kernel that fails (not implemented, bad build) is reported, the run goes on
                    catch (Exception e) when (e is not OperationCanceledException)
#pragma warning restore CA1031
                    {
                        errors.Add(new BenchError
                        {
                            Kernel = c.KernelName,
                            Backend = backend.Name,
                            DType = c.DTypeText,
                            Shape = c.ShapeText,
                            Rank = c.Kernel == BenchKernel.LowRankMerge ? c.Rank : null,
                            Inputs = c.Inputs,
                            Message = $"{e.GetType().Name}: {MachineProbe.FirstLine(e.Message)}",
                        });
                    }
                }
            }

            // A second probe round after the kernels: on a shared machine a busy moment lowers a
            // probe, and a roof is an upper bound, so each roof is the best reading of the run.
            options.Progress?.Invoke("probing again");
            pool.Fill(0, probeBytes, threads);
            var again = MachineProbe.Measure(pool.At(0), probeBytes, threads, options.EffectiveProbeRepeats,
                options.EffectiveProbeMilliseconds, preferNative: !options.ManagedProbes, crossCheck: options.ProbeCrossCheck);
            probe = MachineProbe.Combine(probe, again);
            if (probe.Source != "native")
                notes.Add($"probes: {probe.Source} ({probe.Note})");
            var results = measured.Select(m => WithRoofline(m.Case, m.Result, probe)).ToList();

            return new BenchReport
            {
                Probe = probe,
                Results = results,
                Errors = errors,
                Notes = notes,
                Settings = new BenchSettings
                {
                    Quick = options.Quick,
                    WarmupRuns = options.WarmupRuns,
                    ColdSetBytes = options.ColdSetBytes,
                    Threads = threads,
                    Backends = backends.Select(b => b.Name).ToList(),
                },
            };
        }
        finally
        {
            foreach (var b in backends)
                b.Dispose();
        }
    }

    /// <summary>
    /// Measures one case on one backend with an already-touched pool; the building block of
    /// <see cref="Run"/>. Exceptions of the kernel propagate.
    /// </summary>
    internal static BenchResult Measure(IKernelBackend backend, BenchCase c, ColdPool pool, BenchOptions options, int threads)
    {
        long[] sizes = BufferBytes(c);
        long setBytes = sizes.Sum(ColdPool.AlignUp);
        long wanted = Math.Max(2, (options.ColdSetBytes + setBytes - 1) / setBytes);
        int copies = (int)Math.Min(wanted, pool.Capacity / setBytes);
        if (copies < 1)
            throw new InvalidOperationException($"bench: the cold pool ({pool.Capacity} bytes) cannot hold one copy of {c.Label} ({setBytes} bytes)");

        // Fill the whole cold set: finite values in every dtype, and in order, so that the first
        // copies (used first) are the ones longest out of the caches.
        pool.Fill(0, copies * setBytes, threads);

        int warmup = options.WarmupRuns;
        int runs = options.RunsFor(backend.Name);
        var times = new double[runs];
        using var extras = new CaseExtras(c);
        for (int j = 0; j < warmup + runs; j++)
        {
            var views = CarveViews(c, pool, (j % copies) * setBytes, sizes);
            try
            {
                long t0 = Stopwatch.GetTimestamp();
                Invoke(backend, c, views, extras);
                long t1 = Stopwatch.GetTimestamp();
                if (j >= warmup)
                    times[j - warmup] = Math.Max((double)(t1 - t0) / Stopwatch.Frequency, 1e-9);
            }
            finally
            {
                foreach (var v in views)
                    v.Dispose();
            }
        }

        double best = times.Min();
        Array.Sort(times);
        double median = runs % 2 == 1 ? times[runs / 2] : 0.5 * (times[runs / 2 - 1] + times[runs / 2]);
        return new BenchResult
        {
            Kernel = c.KernelName,
            Backend = backend.Name,
            DType = c.DTypeText,
            Shape = c.ShapeText,
            Rank = c.Kernel == BenchKernel.LowRankMerge ? c.Rank : null,
            Inputs = c.Inputs,
            FanInFanOut = c.FanInFanOut,
            Threads = backend.Threads,
            Seconds = RoundSignificant(best, 5),
            Gbps = RoundSignificant(c.Bytes / best / 1e9, 4),
            Roofline = 0,
            Bound = "",
            MedianSeconds = RoundSignificant(median, 5),
            Runs = runs,
            Copies = copies,
            Bytes = c.Bytes,
            Flops = c.Flops,
        };
    }

    /// <summary>roofline = max(bytes / memory roof, flops / compute roof) / best seconds, and which roof binds.</summary>
    internal static BenchResult WithRoofline(BenchCase c, BenchResult r, ProbeResult probe)
    {
        double memorySeconds = c.Bytes / (probe.MemGbps * 1e9);
        double computeSeconds = c.Flops / (probe.ComputeRoofGflops(c.ComputeDType) * 1e9);
        return r with
        {
            Roofline = RoundSignificant(Math.Max(memorySeconds, computeSeconds) / r.Seconds, 3),
            Bound = computeSeconds > memorySeconds ? "compute" : "memory",
        };
    }

    /// <summary>Bytes of one copy of a case's cold buffers (each rounded up to a page): W; or k inputs and the output; or source and destination.</summary>
    internal static long SetBytes(BenchCase c) => BufferBytes(c).Sum(ColdPool.AlignUp);

    private static long[] BufferBytes(BenchCase c)
    {
        long n = c.ElementCount;
        return c.Kernel switch
        {
            BenchKernel.Affine => Enumerable.Repeat(n * c.DType.SizeOf(), c.Inputs + 1).ToArray(),
            BenchKernel.Convert => [n * c.DType.SizeOf(), n * c.TargetDType.SizeOf()],
            _ => [n * c.DType.SizeOf()],
        };
    }

    private static Tensor[] CarveViews(BenchCase c, ColdPool pool, long offset, long[] sizes)
    {
        long[] shape = [c.Rows, c.Columns];
        var views = new Tensor[sizes.Length];
        for (int i = 0; i < sizes.Length; i++)
        {
            DType dtype = c.Kernel == BenchKernel.Convert && i == 1 ? c.TargetDType : c.DType;
            views[i] = Tensor.FromPointer(pool.At(offset), dtype, shape);
            offset += ColdPool.AlignUp(sizes[i]);
        }
        return views;
    }

    private static void Invoke(IKernelBackend backend, BenchCase c, Tensor[] views, CaseExtras extras)
    {
        switch (c.Kernel)
        {
            case BenchKernel.LowRankMerge:
                backend.LowRankMerge(views[0], [new LowRankUpdate(extras.B!, extras.A!, extras.Scale)], c.FanInFanOut);
                break;
            case BenchKernel.Affine:
                backend.Affine(views.AsSpan(0, c.Inputs), extras.Weights, 0f, views[c.Inputs]);
                break;
            case BenchKernel.ScaleRows:
                backend.ScaleRows(views[0], extras.L!, inverse: false);
                break;
            case BenchKernel.ScaleColumns:
                backend.ScaleColumns(views[0], extras.L!, inverse: false);
                break;
            case BenchKernel.Convert:
                backend.Convert(views[0], views[1]);
                break;
            default:
                throw new InvalidOperationException($"unknown kernel {c.Kernel}");
        }
    }

    /// <summary>The small per-case buffers that are not part of the cold set (factors, l, weights); freed after the case.</summary>
    private sealed class CaseExtras : IDisposable
    {
        public CaseExtras(BenchCase c)
        {
            switch (c.Kernel)
            {
                case BenchKernel.LowRankMerge:
                    long outFeatures = c.FanInFanOut ? c.Columns : c.Rows;
                    long inFeatures = c.FanInFanOut ? c.Rows : c.Columns;
                    B = Filled(c.DType, 0.01f, outFeatures, c.Rank);
                    A = Filled(c.DType, 0.01f, c.Rank, inFeatures);
                    Scale = 2f / c.Rank;
                    break;
                case BenchKernel.ScaleRows:
                    L = Filled(c.DType, 1f, c.Rows);
                    break;
                case BenchKernel.ScaleColumns:
                    L = Filled(c.DType, 1f, c.Columns);
                    break;
                case BenchKernel.Affine:
                    Weights = Enumerable.Repeat(1f / c.Inputs, c.Inputs).ToArray();
                    break;
                default:
                    break;
            }
        }

        public Tensor? A { get; }
        public Tensor? B { get; }
        public Tensor? L { get; }
        public float Scale { get; }
        public float[] Weights { get; } = [];

        public void Dispose()
        {
            A?.Dispose();
            B?.Dispose();
            L?.Dispose();
        }

        private static Tensor Filled(DType dtype, float value, params long[] shape)
        {
            var t = Tensor.Allocate(dtype, shape);
            for (long i = 0; i < t.ElementCount; i++)
                ScalarMath.Store(t.Pointer, dtype, i, value);
            return t;
        }
    }

    private static List<IKernelBackend> CreateBackends(BenchOptions options, int threads, List<string> notes)
    {
        var backends = new List<IKernelBackend>();
        try
        {
            if (options.Backends is not { Count: > 0 } names)
            {
                if (TryCreateNative(threads, out var native, out string? reason))
                    backends.Add(native!);
                else
                    notes.Add($"native-cpu skipped: {reason}");
                backends.Add(new ManagedBackend(threads));
                if (CudaBackend.IsAvailable(out _))
                    backends.Add(new CudaBackend());
                if (IlgpuBackend.IsCudaAvailable(out _))
                    backends.Add(new IlgpuBackend(threads, IlgpuAcceleratorKind.Cuda));
                return backends;
            }
            foreach (var name in names.Distinct())
            {
                switch (name)
                {
                    case "native-cpu":
                        if (!TryCreateNative(threads, out var native, out string? reason))
                            throw new ArgumentException($"bench: backend native-cpu is unavailable: {reason}");
                        backends.Add(native!);
                        break;
                    case "managed":
                        backends.Add(new ManagedBackend(threads));
                        break;
                    case "reference":
                        backends.Add(new ReferenceBackend(1));
                        break;
                    case "ilgpu":
                        backends.Add(new IlgpuBackend(threads));
                        break;
                    case "cuda":
                        if (!CudaBackend.IsAvailable(out string? noCuda))
                            throw new ArgumentException($"bench: backend cuda is unavailable: {noCuda}");
                        backends.Add(new CudaBackend());
                        break;
                    default:
                        throw new ArgumentException($"bench: unknown backend '{name}' (expected {string.Join(", ", BenchOptions.KnownBackends)})");
                }
            }
            return backends;
        }
        catch
        {
            foreach (var b in backends)
                b.Dispose();
            throw;
        }
    }

    private static bool TryCreateNative(int threads, out IKernelBackend? backend, out string? reason)
    {
        backend = null;
        try
        {
            if (!NativeCpuBackend.IsAvailable(out reason))
            {
                reason = MachineProbe.FirstLine(reason);
                return false;
            }
            backend = new NativeCpuBackend(threads);
            reason = null;
            return true;
        }
#pragma warning disable CA1031 // a placeholder or broken libpeft_native (missing export) must not stop the bench
        catch (Exception e)
#pragma warning restore CA1031
        {
            reason = $"{e.GetType().Name}: {MachineProbe.FirstLine(e.Message)}";
            return false;
        }
    }

    /// <summary>Rounds to <paramref name="digits"/> significant digits (keeps the JSON short without losing meaning).</summary>
    internal static double RoundSignificant(double value, int digits)
    {
        if (value == 0 || !double.IsFinite(value))
            return value;
        int magnitude = (int)Math.Floor(Math.Log10(Math.Abs(value))) + 1;
        int decimals = digits - magnitude;
        if (decimals is >= 0 and <= 15)
            return Math.Round(value, decimals);
        double factor = Math.Pow(10, magnitude - digits);
        return Math.Round(value / factor) * factor;
    }
}
