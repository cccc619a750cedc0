namespace PeftNative.Benchmarking;

/// <summary>
/// Settings of one <see cref="BandwidthHarness.Run"/>. The defaults are those of
/// <c>peftnative bench</c>; tests shrink the shapes, the cold set and the probes
/// (see <see cref="Tiny"/>) to check the report in well under a second.
/// </summary>
public sealed record BenchOptions
{
    /// <summary>One gibibyte, the default cold-set size.</summary>
    public const long GiB = 1L << 30;

    /// <summary>Backend names the harness knows.</summary>
    public static IReadOnlyList<string> KnownBackends { get; } = ["native-cpu", "managed", "reference", "ilgpu", "cuda"];

    /// <summary>Fewer cases (<see cref="BenchCase.QuickMatrix"/>), fewer timed runs, shorter probes.</summary>
    public bool Quick { get; init; }

    /// <summary>
    /// Backends to measure, by name ("native-cpu", "managed", "reference", "ilgpu", "cuda"). Null or empty:
    /// every available CPU backend (native-cpu when libpeft_native loads, and managed), plus cuda and
    /// ilgpu when they find a GPU (their timings include the copies to and from the device). A backend named
    /// here that cannot be created makes <see cref="BandwidthHarness.Run"/> throw.
    /// </summary>
    public IReadOnlyList<string>? Backends { get; init; }

    /// <summary>Worker threads for the kernels and the probes; 0 (default) means all logical CPUs.</summary>
    public int Threads { get; init; }

    /// <summary>
    /// Minimum size of the cold set of one case, in bytes (default 1 GiB): the timed runs rotate
    /// through ceil(ColdSetBytes / bytes-of-one-copy) copies of the case's buffers (at least 2), so no
    /// run finds its W in the caches.
    /// </summary>
    public long ColdSetBytes { get; init; } = GiB;

    /// <summary>Rows of W for native-cpu and managed (default 4096).</summary>
    public long Rows { get; init; } = 4096;

    /// <summary>Columns of W for native-cpu and managed (default 4096).</summary>
    public long Columns { get; init; } = 4096;

    /// <summary>Rows of W for the (slow) reference backend (default 512).</summary>
    public long ReferenceRows { get; init; } = 512;

    /// <summary>Columns of W for the (slow) reference backend (default 512).</summary>
    public long ReferenceColumns { get; init; } = 512;

    /// <summary>Timed cold runs per case; null: 8 (full) or 4 (quick); the reference backend uses at most 3.</summary>
    public int? Runs { get; init; }

    /// <summary>Untimed warm-up runs per case before the timed ones (default 1).</summary>
    public int WarmupRuns { get; init; } = 1;

    /// <summary>Buffer of the memory probe, in bytes; null: <see cref="ColdSetBytes"/>.</summary>
    public long? ProbeBytes { get; init; }

    /// <summary>Passes of the memory probe and windows of each compute probe (the best counts); null: 5 (full) or 3 (quick).</summary>
    public int? ProbeRepeats { get; init; }

    /// <summary>Duration of each compute-probe window in milliseconds; null: 100 (full) or 50 (quick).</summary>
    public int? ProbeMilliseconds { get; init; }

    /// <summary>Use the managed probes even when libpeft_native loads (tests of the fallback).</summary>
    public bool ManagedProbes { get; init; }

    /// <summary>
    /// When libpeft_native's probes run, run the managed probes too and take the higher reading of each
    /// roof (default true: a probe can only under-read a roof). False: the native readings alone.
    /// </summary>
    public bool ProbeCrossCheck { get; init; } = true;

    /// <summary>
    /// The cases to run on every backend, replacing the built-in matrix (which is
    /// <see cref="BenchCase.FullMatrix"/> or <see cref="BenchCase.QuickMatrix"/> on
    /// <see cref="Rows"/> x <see cref="Columns"/>, and on the reference shape for "reference").
    /// </summary>
    public IReadOnlyList<BenchCase>? Cases { get; init; }

    /// <summary>Receives one line as each case starts (progress); null for none.</summary>
    public Action<string>? Progress { get; init; }

    /// <summary>
    /// A configuration that runs in a fraction of a second: W 64 x 96 (reference 16 x 24), a 4 MiB
    /// cold set, 2 timed runs, an 8 MiB memory probe and 20 ms compute probes, the quick matrix.
    /// </summary>
    public static BenchOptions Tiny { get; } = new()
    {
        Quick = true,
        Rows = 64,
        Columns = 96,
        ReferenceRows = 16,
        ReferenceColumns = 24,
        ColdSetBytes = 4L << 20,
        Runs = 2,
        ProbeBytes = 8L << 20,
        ProbeRepeats = 2,
        ProbeMilliseconds = 20,
    };

    /// <summary>Threads after defaulting (all logical CPUs for 0).</summary>
    public int EffectiveThreads => Threads > 0 ? Threads : Environment.ProcessorCount;

    /// <summary>Timed runs per case for <paramref name="backend"/>.</summary>
    public int RunsFor(string backend)
    {
        int runs = Runs ?? (Quick ? 4 : 8);
        return backend == "reference" ? Math.Min(runs, 3) : runs;
    }

    /// <summary>Memory-probe passes after defaulting.</summary>
    public int EffectiveProbeRepeats => ProbeRepeats ?? (Quick ? 3 : 5);

    /// <summary>Compute-probe duration after defaulting.</summary>
    public int EffectiveProbeMilliseconds => ProbeMilliseconds ?? (Quick ? 50 : 100);

    /// <summary>Memory-probe buffer after defaulting.</summary>
    public long EffectiveProbeBytes => ProbeBytes ?? ColdSetBytes;

    /// <summary>The cases for one backend: <see cref="Cases"/>, else the built-in matrix on that backend's shape.</summary>
    public IReadOnlyList<BenchCase> CasesFor(string backend)
    {
        if (Cases is { Count: > 0 } explicitCases)
            return explicitCases;
        (long rows, long cols) = backend == "reference" ? (ReferenceRows, ReferenceColumns) : (Rows, Columns);
        return Quick ? BenchCase.QuickMatrix(rows, cols) : BenchCase.FullMatrix(rows, cols);
    }

    /// <summary>Checks the settings.</summary>
    /// <exception cref="ArgumentException">A negative thread count, a size or count below its minimum, or an unknown backend name.</exception>
    public void Validate()
    {
        if (Threads < 0)
            throw new ArgumentException($"bench: threads must be >= 1 (or 0 for all CPUs), got {Threads}");
        if (Rows < 1 || Columns < 1 || ReferenceRows < 1 || ReferenceColumns < 1)
            throw new ArgumentException($"bench: shapes must be at least 1x1 (got {Rows}x{Columns}, reference {ReferenceRows}x{ReferenceColumns})");
        if (ColdSetBytes < 1)
            throw new ArgumentException($"bench: the cold set must be at least 1 byte, got {ColdSetBytes}");
        if (Runs is < 1)
            throw new ArgumentException($"bench: at least one timed run is needed, got {Runs}");
        if (WarmupRuns < 0)
            throw new ArgumentException($"bench: warm-up runs cannot be negative, got {WarmupRuns}");
        if (ProbeBytes is < 4096)
            throw new ArgumentException($"bench: the memory probe needs at least 4096 bytes, got {ProbeBytes}");
        if (ProbeRepeats is < 1 || ProbeMilliseconds is < 1)
            throw new ArgumentException("bench: probe repeats and milliseconds must be at least 1");
        foreach (var name in Backends ?? [])
            if (!KnownBackends.Contains(name))
                throw new ArgumentException($"bench: unknown backend '{name}' (expected {string.Join(", ", KnownBackends)})");
    }
}
