using System.Globalization;
using PeftNative.Interop;

namespace PeftNative.Benchmarking;

/// <summary>
/// Measures the roofs (<see cref="ProbeResult"/>): libpeft_native's pn_probe_memory_rmw,
/// pn_probe_fma_f32 and pn_probe_bf16_dot when the library loads, otherwise the managed probes
/// (Vector256/Vector512 in-place RMW, independent FMA chains, bf16 widening + FMA). When the native
/// probes run, the managed ones run too as a cross-check and each roof is the higher reading (a roof
/// is an upper bound; a probe can only under-read it). The result says which probes ran and which
/// gave each roof.
/// </summary>
public static unsafe class MachineProbe
{
    /// <summary>
    /// Runs the probes. The memory probe works in place on <paramref name="buffer"/>, which the
    /// caller has allocated and touched, and whose 32-bit words are finite floats (they are left as
    /// they are).
    /// </summary>
    /// <param name="buffer">Start of the probe array (4-byte aligned at least; 64 is best).</param>
    /// <param name="bytes">Its size in bytes (far larger than the caches; at least 4096).</param>
    /// <param name="threads">Threads (&gt;= 1).</param>
    /// <param name="repeats">Memory passes, and windows of each compute probe; the best counts
    /// (on a shared machine a single long window averages in the other processes' time slices).</param>
    /// <param name="milliseconds">Duration of each compute-probe window.</param>
    /// <param name="preferNative">Try libpeft_native first (default); false runs the managed probes only.</param>
    /// <param name="crossCheck">When the native probes ran, run the managed ones too and keep the higher
    /// reading of each roof (default); false keeps the native readings as they are.</param>
    /// <exception cref="ArgumentException">A null buffer or a size, count or duration below its minimum.</exception>
    public static ProbeResult Measure(nint buffer, long bytes, int threads, int repeats, int milliseconds, bool preferNative = true, bool crossCheck = true)
    {
        if (buffer == 0)
            throw new ArgumentNullException(nameof(buffer));
        ArgumentOutOfRangeException.ThrowIfLessThan(bytes, 4096);
        ArgumentOutOfRangeException.ThrowIfLessThan(threads, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(repeats, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(milliseconds, 1);
        bytes &= ~63L;

        ProbeReading? native = null;
        string? failure = "managed probes requested";
        NativeCapabilities caps = default;
        if (preferNative)
            native = TryNative(buffer, bytes, threads, repeats, milliseconds, out caps, out failure);
        if (native is not null && !crossCheck)
        {
            return new ProbeResult
            {
                MemGbps = native.MemGbps,
                FmaGflops = native.FmaGflops,
                Bf16Gflops = native.Bf16Gflops,
                Source = "native",
                Bf16Method = Bf16Method(caps),
                VectorBits = VectorBits(caps),
                Threads = threads,
                MemBytes = bytes,
                Native = native,
            };
        }
        var managed = new ProbeReading
        {
            MemGbps = Round(MemoryGbps(buffer, bytes, repeats, (p, n) => ManagedProbes.MemoryRmw(p, n, 1, threads))),
            FmaGflops = Round(BestOf(repeats, () => ManagedProbes.FmaF32(milliseconds, threads))),
            Bf16Gflops = Round(BestOf(repeats, () => ManagedProbes.Bf16Dot(milliseconds, threads))),
        };

        if (native is null)
        {
            return new ProbeResult
            {
                MemGbps = managed.MemGbps,
                FmaGflops = managed.FmaGflops,
                Bf16Gflops = managed.Bf16Gflops,
                Source = "managed",
                Bf16Method = "widen+fma",
                VectorBits = ManagedProbes.VectorBits,
                Threads = threads,
                MemBytes = bytes,
                Note = failure,
                Managed = managed,
            };
        }
        return Combine(new ProbeResult
        {
            MemGbps = native.MemGbps,
            FmaGflops = native.FmaGflops,
            Bf16Gflops = native.Bf16Gflops,
            Source = "native",
            Bf16Method = Bf16Method(caps),
            VectorBits = VectorBits(caps),
            Threads = threads,
            MemBytes = bytes,
            Native = native,
            Managed = managed,
        }, null);
    }

    /// <summary>
    /// Merges two probe rounds of one run (for example before and after the kernels, so that a busy
    /// moment does not lower a roof): each reading is the higher of the two, and each roof the higher
    /// of the native and managed readings when both ran.
    /// </summary>
    public static ProbeResult Combine(ProbeResult first, ProbeResult? second)
    {
        ArgumentNullException.ThrowIfNull(first);
        var native = ProbeReading.Max(first.Native, second?.Native);
        var managed = ProbeReading.Max(first.Managed, second?.Managed);
        if (native is null)
        {
            var m = managed ?? new ProbeReading { MemGbps = first.MemGbps, FmaGflops = first.FmaGflops, Bf16Gflops = first.Bf16Gflops };
            return first with { MemGbps = m.MemGbps, FmaGflops = m.FmaGflops, Bf16Gflops = m.Bf16Gflops, Managed = m };
        }
        var raised = new List<string>();
        double Pick(double n, double? m, string what, string unit)
        {
            if (m is { } mv && mv > n)
            {
                raised.Add(string.Create(CultureInfo.InvariantCulture, $"{what} {mv} {unit} (managed) > {n} (native)"));
                return mv;
            }
            return n;
        }
        double mem = Pick(native.MemGbps, managed?.MemGbps, "memory", "GB/s");
        double fma = Pick(native.FmaGflops, managed?.FmaGflops, "f32 FMA", "GFLOP/s");
        double bf16 = Pick(native.Bf16Gflops, managed?.Bf16Gflops, "bf16 dot", "GFLOP/s");
        return first with
        {
            MemGbps = mem,
            FmaGflops = fma,
            Bf16Gflops = bf16,
            Source = raised.Count == 0 ? "native" : "native+managed",
            Note = raised.Count == 0 ? null : "roofs raised by the managed cross-check: " + string.Join("; ", raised),
            Native = native,
            Managed = managed,
        };
    }

    private static string Bf16Method(NativeCapabilities caps) =>
        caps.HasAvx512Bf16 != 0 && caps.ActiveIsa >= (int)NativeIsa.Avx512 ? "vdpbf16ps" : "widen+fma";

    private static int VectorBits(NativeCapabilities caps) =>
        caps.ActiveIsa >= (int)NativeIsa.Avx512 ? 512 : caps.ActiveIsa >= (int)NativeIsa.Avx2 ? 256 : 128;

    private static ProbeReading? TryNative(nint buffer, long bytes, int threads, int repeats, int milliseconds, out NativeCapabilities caps, out string? failure)
    {
        caps = default;
        try
        {
            if (!NativeLibraryLoader.TryEnsureLoaded(out failure))
            {
                failure = "libpeft_native unavailable: " + FirstLine(failure);
                return null;
            }
            NativeCapabilities c = default;
            c.StructSize = (uint)sizeof(NativeCapabilities);
            Check(NativeMethods.pn_get_capabilities(&c), "pn_get_capabilities");
            caps = c;
            double mem = MemoryGbps(buffer, bytes, repeats, (p, n) =>
            {
                double s;
                Check(NativeMethods.pn_probe_memory_rmw((void*)p, n, 1, threads, &s), "pn_probe_memory_rmw");
                return s;
            });
            double fma = BestOf(repeats, () =>
            {
                double g;
                Check(NativeMethods.pn_probe_fma_f32(milliseconds, threads, &g), "pn_probe_fma_f32");
                return g;
            });
            double bf16 = BestOf(repeats, () =>
            {
                double g;
                Check(NativeMethods.pn_probe_bf16_dot(milliseconds, threads, &g), "pn_probe_bf16_dot");
                return g;
            });
            if (!(mem > 0) || !(fma > 0) || !(bf16 > 0) || !double.IsFinite(mem) || !double.IsFinite(fma) || !double.IsFinite(bf16))
            {
                failure = $"native probes returned implausible values (memory {mem} GB/s, fma {fma}, bf16 {bf16} GFLOP/s)";
                return null;
            }
            failure = null;
            return new ProbeReading
            {
                MemGbps = Round(mem),
                FmaGflops = Round(fma),
                Bf16Gflops = Round(bf16),
            };
        }
#pragma warning disable CA1031 // a placeholder or broken library must not stop a measurement: fall back and say why
        catch (Exception e)
#pragma warning restore CA1031
        {
            failure = $"native probes failed ({e.GetType().Name}: {FirstLine(e.Message)})";
            return null;
        }
    }

    /// <summary>Largest memory probe segment: far larger than the caches, short enough that one pass fits a quiet moment.</summary>
    public const long MemorySegmentBytes = 128L << 20;

    /// <summary>
    /// Best GB/s (read + written) over <paramref name="repeats"/> sweeps of the buffer in segments of up to
    /// <see cref="MemorySegmentBytes"/>, each segment one timed in-place pass — the way the kernels are
    /// timed (one cold 32-64 MiB W per run), so a busy moment costs one window, not the whole reading.
    /// </summary>
    private static double MemoryGbps(nint buffer, long bytes, int repeats, Func<nint, long, double> pass)
    {
        long segment = Math.Min(bytes, MemorySegmentBytes) & ~63L;
        long segments = bytes / segment;
        double best = 0;
        for (int r = 0; r < repeats; r++)
            for (long i = 0; i < segments; i++)
                best = Math.Max(best, 2.0 * segment / pass(buffer + (nint)(i * segment), segment) / 1e9);
        return best;
    }

    private static double BestOf(int windows, Func<double> probe)
    {
        double best = 0;
        for (int i = 0; i < windows; i++)
            best = Math.Max(best, probe());
        return best;
    }

    private static double Round(double value) => BandwidthHarness.RoundSignificant(value, 4);

    private static void Check(NativeStatus status, string what)
    {
        if (status != NativeStatus.Ok)
            throw new PeftNativeException(status, $"{what}: {NativeLibraryLoader.LastError()}");
    }

    /// <summary>A message on one line: lines joined with "; ", trailing colons dropped, at most 400 characters.</summary>
    internal static string FirstLine(string? text)
    {
        if (string.IsNullOrWhiteSpace(text))
            return "no reason given";
        string joined = string.Join("; ", text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(l => l.TrimEnd(':')));
        return joined.Length <= 400 ? joined : joined[..397] + "...";
    }
}
