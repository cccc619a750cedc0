using PeftNative.Interop;

namespace PeftNative.Benchmarking;

/// <summary>
/// Measures the roofs (<see cref="ProbeResult"/>): libpeft_native's pn_probe_memory_rmw,
/// pn_probe_fma_f32 and pn_probe_bf16_dot when the library loads, otherwise the managed probes
/// (Vector256/Vector512 in-place RMW, independent FMA chains, bf16 widening + FMA). The result
/// says which ran.
/// </summary>
public static unsafe class MachineProbe
{
    /// <summary>
    /// Runs the three probes. The memory probe works in place on <paramref name="buffer"/>, which the
    /// caller has allocated and touched, and whose 32-bit words are finite floats (they are left as
    /// they are).
    /// </summary>
    /// <param name="buffer">Start of the probe array (4-byte aligned at least; 64 is best).</param>
    /// <param name="bytes">Its size in bytes (far larger than the caches; at least 4096).</param>
    /// <param name="threads">Threads (&gt;= 1).</param>
    /// <param name="repeats">Memory passes; the best counts.</param>
    /// <param name="milliseconds">Duration of each compute probe.</param>
    /// <param name="preferNative">Try libpeft_native first (default); false forces the managed probes.</param>
    /// <exception cref="ArgumentException">A null buffer or a size, count or duration below its minimum.</exception>
    public static ProbeResult Measure(nint buffer, long bytes, int threads, int repeats, int milliseconds, bool preferNative = true)
    {
        if (buffer == 0)
            throw new ArgumentNullException(nameof(buffer));
        ArgumentOutOfRangeException.ThrowIfLessThan(bytes, 4096);
        ArgumentOutOfRangeException.ThrowIfLessThan(threads, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(repeats, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(milliseconds, 1);
        bytes &= ~63L;

        string? note = null;
        if (preferNative)
        {
            if (TryNative(buffer, bytes, threads, repeats, milliseconds, out var native, out note))
                return native!;
        }
        else
        {
            note = "managed probes requested";
        }

        double seconds = ManagedProbes.MemoryRmw(buffer, bytes, repeats, threads);
        return new ProbeResult
        {
            MemGbps = Round(2.0 * bytes / seconds / 1e9),
            FmaGflops = Round(ManagedProbes.FmaF32(milliseconds, threads)),
            Bf16Gflops = Round(ManagedProbes.Bf16Dot(milliseconds, threads)),
            Source = "managed",
            Bf16Method = "widen+fma",
            VectorBits = ManagedProbes.VectorBits,
            Threads = threads,
            MemBytes = bytes,
            Note = note,
        };
    }

    private static bool TryNative(nint buffer, long bytes, int threads, int repeats, int milliseconds, out ProbeResult? result, out string? failure)
    {
        result = null;
        try
        {
            if (!NativeLibraryLoader.TryEnsureLoaded(out failure))
            {
                failure = "libpeft_native unavailable: " + FirstLine(failure);
                return false;
            }
            NativeCapabilities caps = default;
            caps.StructSize = (uint)sizeof(NativeCapabilities);
            Check(NativeMethods.pn_get_capabilities(&caps), "pn_get_capabilities");
            double seconds, fma, bf16;
            Check(NativeMethods.pn_probe_memory_rmw((void*)buffer, bytes, repeats, threads, &seconds), "pn_probe_memory_rmw");
            Check(NativeMethods.pn_probe_fma_f32(milliseconds, threads, &fma), "pn_probe_fma_f32");
            Check(NativeMethods.pn_probe_bf16_dot(milliseconds, threads, &bf16), "pn_probe_bf16_dot");
            if (!(seconds > 0) || !(fma > 0) || !(bf16 > 0) || !double.IsFinite(fma) || !double.IsFinite(bf16))
            {
                failure = $"native probes returned implausible values (memory {seconds} s, fma {fma}, bf16 {bf16} GFLOP/s)";
                return false;
            }
            result = new ProbeResult
            {
                MemGbps = Round(2.0 * bytes / seconds / 1e9),
                FmaGflops = Round(fma),
                Bf16Gflops = Round(bf16),
                Source = "native",
                Bf16Method = caps.HasAvx512Bf16 != 0 && caps.ActiveIsa >= (int)NativeIsa.Avx512 ? "vdpbf16ps" : "widen+fma",
                VectorBits = caps.ActiveIsa >= (int)NativeIsa.Avx512 ? 512 : caps.ActiveIsa >= (int)NativeIsa.Avx2 ? 256 : 128,
                Threads = threads,
                MemBytes = bytes,
            };
            failure = null;
            return true;
        }
#pragma warning disable CA1031 // a placeholder or broken library must not stop a measurement: fall back and say why
        catch (Exception e)
#pragma warning restore CA1031
        {
            failure = $"native probes failed ({e.GetType().Name}: {FirstLine(e.Message)})";
            return false;
        }
    }

    private static double Round(double value) => BandwidthHarness.RoundSignificant(value, 4);

    private static void Check(NativeStatus status, string what)
    {
        if (status != NativeStatus.Ok)
            throw new PeftNativeException(status, $"{what}: {NativeLibraryLoader.LastError()}");
    }

    internal static string FirstLine(string? text) =>
        string.IsNullOrEmpty(text) ? "no reason given" : text.Split('\n', 2)[0].Trim();
}
