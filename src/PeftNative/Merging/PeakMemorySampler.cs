using System.Globalization;

namespace PeftNative.Merging;

/// <summary>
/// The peak resident memory of the process over an interval. On Linux the kernel's own high-water
/// mark (VmHWM) is reset at the start (writing 5 to /proc/self/clear_refs) and read at the end, so
/// no short peak is missed; a sampler thread reading the resident size every few milliseconds
/// backs it up where the reset is not allowed (then VmHWM, which would include earlier peaks, is
/// not used).
/// </summary>
internal sealed class PeakMemorySampler : IDisposable
{
    private readonly bool _kernelPeakReset;
    private readonly Thread _thread;
    private readonly ManualResetEventSlim _stop = new();
    private long _peak;

    private PeakMemorySampler()
    {
        _kernelPeakReset = TryResetKernelPeak();
        _peak = Environment.WorkingSet;
        _thread = new Thread(Sample) { IsBackground = true, Name = "peftnative merge memory sampler" };
        _thread.Start();
    }

    /// <summary>Starts measuring.</summary>
    public static PeakMemorySampler Start() => new();

    /// <summary>The peak so far, in bytes.</summary>
    public long PeakBytes
    {
        get
        {
            long peak = Math.Max(Interlocked.Read(ref _peak), Environment.WorkingSet);
            if (_kernelPeakReset && ReadStatusKilobytes("VmHWM:") is { } hwm)
                peak = Math.Max(peak, hwm * 1024);
            return peak;
        }
    }

    /// <summary>Stops the sampler thread.</summary>
    public void Dispose()
    {
        _stop.Set();
        _thread.Join();
        _stop.Dispose();
    }

    private void Sample()
    {
        while (!_stop.Wait(5))
        {
            long now = Environment.WorkingSet;
            long seen;
            while (now > (seen = Interlocked.Read(ref _peak)) && Interlocked.CompareExchange(ref _peak, now, seen) != seen)
            {
            }
        }
    }

    private static bool TryResetKernelPeak()
    {
        if (!OperatingSystem.IsLinux())
            return false;
        try
        {
            File.WriteAllText("/proc/self/clear_refs", "5");
            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    private static long? ReadStatusKilobytes(string key)
    {
        try
        {
            foreach (string line in File.ReadLines("/proc/self/status"))
            {
                if (line.StartsWith(key, StringComparison.Ordinal)
                    && long.TryParse(line.AsSpan(key.Length).Trim().TrimEnd("kB").Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out long kb))
                    return kb;
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // not Linux, or /proc not mounted: the sampler's reading stands
        }
        return null;
    }
}
