using System.Diagnostics;
using System.Globalization;
using PeftNative.Backends;
using PeftNative.Backends.NativeCpu;
using PeftNative.Interop;

namespace PeftNative.Benchmarking;

/// <summary>
/// The forward pass's matrix products against this machine's roofs, in one run
/// (<c>peftnative bench --gemm</c>): the probes of <see cref="MachineProbe"/> before and after, then
/// <list type="bullet">
/// <item>prefill: y (m × n) = x (m × k) · W for GPT-2 small and LLaMA-1B-like weights at m = 128 and 512,
/// GFLOP/s = 2·m·n·k / best seconds over the f32 FMA probe (a product that widens f16/bf16 to f32
/// runs at the f32 FMA rate); the target is a ratio of at least 0.6;</item>
/// <item>decode: m = 1, memory-bound, GB/s = bytes of W, x and y / best seconds over the memory
/// probe, each timed run on another copy of W from a set larger than the caches.</item>
/// </list>
/// Each roof is the best reading of the run; each case also records a short FMA probe taken just
/// before it, which shows how busy a shared machine was at that moment.
/// </summary>
public static unsafe class GemmProbe
{
    /// <summary>The prefill target: GFLOP/s at least this fraction of the f32 FMA probe.</summary>
    public const double PrefillTarget = 0.6;

    /// <summary>Runs what <paramref name="options"/> asks for.</summary>
    /// <exception cref="ArgumentException">Bad settings, an unknown product, or native-cpu asked for where it cannot load.</exception>
    /// <exception cref="OperationCanceledException">Cancelled (between cases).</exception>
    public static GemmProbeResult Measure(GemmProbeOptions? options = null, CancellationToken cancellationToken = default)
    {
        options ??= new GemmProbeOptions();
        options.Validate();
        int threads = options.Threads > 0 ? options.Threads : Environment.ProcessorCount;
        var notes = new List<string>();
        var products = CreateProducts(options, threads, notes);
        try
        {
            using var probeBuffer = Tensor.Allocate(DType.F32, options.ProbeBytes / 4);
            probeBuffer.AsSpan<float>().Fill(1f);
            options.Progress?.Invoke("probing memory, f32 FMA and bf16 dot throughput");
            var probe = MachineProbe.Measure(probeBuffer.Pointer, probeBuffer.ByteLength, threads, options.ProbeRepeats, options.ProbeMilliseconds);

            var prefill = new List<Raw>();
            var decode = new List<Raw>();
            foreach (var product in products)
            {
                foreach (var shape in options.Shapes)
                    foreach (int m in options.PrefillRows)
                    {
                        cancellationToken.ThrowIfCancellationRequested();
                        options.Progress?.Invoke(string.Create(CultureInfo.InvariantCulture, $"prefill {product.Name} {shape.Label} m={m}"));
                        prefill.Add(Time(product, shape, m, 1, options, threads));
                    }
                foreach (var shape in options.DecodeShapes)
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    options.Progress?.Invoke($"decode {product.Name} {shape.Label}");
                    long wBytes = (long)shape.N * shape.K * shape.DType.SizeOf();
                    int copies = (int)Math.Clamp(options.DecodeSetBytes / Math.Max(1, wBytes), 1, 64);
                    decode.Add(Time(product, shape, 1, copies, options, threads));
                }
            }

            options.Progress?.Invoke("probing again");
            probe = MachineProbe.Combine(probe, MachineProbe.Measure(probeBuffer.Pointer, probeBuffer.ByteLength, threads, options.ProbeRepeats, options.ProbeMilliseconds));

            notes.Add("prefill ratio = (2 m n k / best seconds) / f32 FMA probe; decode ratio = (bytes of W + x + y / best seconds) / memory probe (in-place read-modify-write, bytes read + written); " +
                "roofs = the best probe readings before and after the products; x and y f32, W in the dtype listed, widened to f32 inside the product");
            notes.Add("adjacent = a short f32 FMA probe just before each case: where it is far below the roof, the machine was busy during that case");
            notes.Add("cpu-time ratio (prefill) = flops per second of this process's CPU time over the same for the FMA probes (the best of the adjacent ones): " +
                "what a busy machine's time slicing does not change, since the product and the probe are charged only for the time they ran");
            double cpuRoof = prefill.Concat(decode).Select(r => r.AdjacentFlopsPerCpuSecond).DefaultIfEmpty(0).Max();
            return new GemmProbeResult
            {
                Probe = probe,
                Prefill = prefill.Select(r => r.ToMeasurement(probe, false, cpuRoof)).ToList(),
                Decode = decode.Select(r => r.ToMeasurement(probe, true, cpuRoof)).ToList(),
                Notes = notes,
            };
        }
        finally
        {
            foreach (var p in products)
                p.Dispose();
        }
    }

    private sealed record Raw(string Product, GemmShape Shape, int M, int Threads, double Best, double Median, long Bytes, double Adjacent,
        double FlopsPerCpuSecond, double AdjacentFlopsPerCpuSecond)
    {
        public GemmMeasurement ToMeasurement(ProbeResult probe, bool decodeCase, double probeFlopsPerCpuSecond)
        {
            double gflops = 2.0 * M * Shape.N * Shape.K / Best / 1e9;
            double gbps = Bytes / Best / 1e9;
            return new GemmMeasurement
            {
                Product = Product,
                Label = Shape.Label,
                M = M,
                N = Shape.N,
                K = Shape.K,
                DType = Shape.DType.ShortName(),
                WeightIsInputMajor = Shape.WeightIsInputMajor,
                Threads = Threads,
                Seconds = BandwidthHarness.RoundSignificant(Best, 4),
                MedianSeconds = BandwidthHarness.RoundSignificant(Median, 4),
                Gflops = BandwidthHarness.RoundSignificant(gflops, 4),
                Gbps = BandwidthHarness.RoundSignificant(gbps, 4),
                Roof = decodeCase ? "memory" : "fma",
                Ratio = BandwidthHarness.RoundSignificant(decodeCase ? gbps / probe.MemGbps : gflops / probe.FmaGflops, 3),
                AdjacentFmaGflops = BandwidthHarness.RoundSignificant(Adjacent, 4),
                CpuTimeRatio = decodeCase || !(probeFlopsPerCpuSecond > 0) ? null
                    : BandwidthHarness.RoundSignificant(FlopsPerCpuSecond / probeFlopsPerCpuSecond, 3),
            };
        }
    }

    /// <summary>One warm-up, then the timed runs (at least one per copy of W, each on the next copy).</summary>
    private static Raw Time(IMatMul product, GemmShape shape, int m, int copies, GemmProbeOptions o, int threads)
    {
        var rng = new Random(shape.N * 31 + shape.K);
        var weights = new List<Tensor>();
        try
        {
            for (int c = 0; c < copies; c++)
            {
                var w = Tensor.Allocate(shape.DType, shape.WeightIsInputMajor ? [shape.K, shape.N] : [shape.N, shape.K]);
                Fill(w, rng);
                weights.Add(w);
            }
            float[] x = new float[(long)m * shape.K];
            for (int i = 0; i < x.Length; i++)
                x[i] = (float)(rng.NextDouble() * 2 - 1);
            float[] y = new float[(long)m * shape.N];
            product.MatMul(x, m, weights[0], shape.WeightIsInputMajor, y);
            var (adjacent, adjacentPerCpu) = AdjacentFma(threads, Math.Max(1, o.ProbeMilliseconds / 2));
            int runs = Math.Max(o.Repeats, copies);
            var seconds = new double[runs];
            var cpu0 = Process.GetCurrentProcess().TotalProcessorTime;
            for (int r = 0; r < runs; r++)
            {
                var w = weights[(r + 1) % copies];
                long t0 = Stopwatch.GetTimestamp();
                product.MatMul(x, m, w, shape.WeightIsInputMajor, y);
                seconds[r] = Stopwatch.GetElapsedTime(t0).TotalSeconds;
            }
            double cpuSeconds = (Process.GetCurrentProcess().TotalProcessorTime - cpu0).TotalSeconds;
            Array.Sort(seconds);
            long bytes = weights[0].ByteLength + 4L * m * shape.K + 4L * m * shape.N;
            double perCpu = cpuSeconds > 0 ? 2.0 * m * shape.N * shape.K * runs / cpuSeconds : 0;
            return new Raw(product.Name, shape, m, product.Threads, seconds[0], seconds[runs / 2], bytes, adjacent, perCpu, adjacentPerCpu);
        }
        finally
        {
            foreach (var w in weights)
                w.Dispose();
        }
    }

    private static void Fill(Tensor w, Random rng)
    {
        switch (w.DType)
        {
            case DType.F32:
                foreach (ref float v in w.AsSpan<float>())
                    v = (float)(rng.NextDouble() - 0.5);
                break;
            case DType.F16:
                foreach (ref Half v in w.AsSpan<Half>())
                    v = (Half)(rng.NextDouble() - 0.5);
                break;
            default:
                foreach (ref BFloat16 v in w.AsSpan<BFloat16>())
                    v = BFloat16.FromSingle((float)(rng.NextDouble() - 0.5));
                break;
        }
    }

    /// <summary>A short f32 FMA probe: GFLOP/s of wall time, and flops per second of process CPU time.</summary>
    private static (double Gflops, double FlopsPerCpuSecond) AdjacentFma(int threads, int milliseconds)
    {
        var cpu0 = Process.GetCurrentProcess().TotalProcessorTime;
        long t0 = Stopwatch.GetTimestamp();
        double g = double.NaN;
        if (NativeLibraryLoader.TryEnsureLoaded(out _))
        {
            double native;
            if (NativeMethods.pn_probe_fma_f32(milliseconds, threads, &native) == NativeStatus.Ok)
                g = native;
        }
        if (double.IsNaN(g))
            g = ManagedProbes.FmaF32(milliseconds, threads);
        double wall = Stopwatch.GetElapsedTime(t0).TotalSeconds;
        double cpu = (Process.GetCurrentProcess().TotalProcessorTime - cpu0).TotalSeconds;
        return (g, cpu > 0 ? g * 1e9 * wall / cpu : 0);
    }

    private static List<IMatMul> CreateProducts(GemmProbeOptions o, int threads, List<string> notes)
    {
        var names = o.Products?.ToList();
        if (names is null)
        {
            names = [];
            if (NativeCpuBackend.IsAvailable(out string? reason))
                names.Add("native-cpu");
            else
                notes.Add("native-cpu not measured: " + MachineProbe.FirstLine(reason));
            names.Add("managed");
        }
        var list = new List<IMatMul>();
        try
        {
            foreach (string name in names)
            {
                if (name.Trim().Equals("auto", StringComparison.OrdinalIgnoreCase))
                    throw new ArgumentException("name the product to measure: native-cpu or managed");
                try
                {
                    list.Add(MatMulFactory.Create(name, threads, notes.Add));
                }
                catch (DllNotFoundException e)
                {
                    throw new ArgumentException($"native-cpu cannot be loaded here: {MachineProbe.FirstLine(e.Message)}", e);
                }
            }
        }
        catch
        {
            foreach (var p in list)
                p.Dispose();
            throw;
        }
        return list;
    }
}
