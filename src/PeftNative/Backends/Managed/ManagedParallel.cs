namespace PeftNative.Backends.Managed;

/// <summary>A piece of work over a half-open index range, run by <see cref="ManagedParallel.For"/>.</summary>
internal interface IRangeJob
{
    /// <summary>Does the work for indices <c>[start, end)</c>.</summary>
    void Run(nint start, nint end);
}

/// <summary>Splits index ranges over worker threads (<see cref="Parallel.For(long, long, ParallelOptions, Action{long})"/>).</summary>
internal static class ManagedParallel
{
    /// <summary>Chunks per thread: a few, so that a thread slowed by the machine does not hold up the others.</summary>
    private const int ChunksPerThread = 4;

    /// <summary>
    /// Runs <paramref name="job"/> over <c>[0, count)</c> in chunks whose starts are multiples of
    /// <paramref name="align"/>, on at most <paramref name="threads"/> threads and never on more
    /// than one per <paramref name="minPerThread"/> indices (small problems stay on the caller).
    /// </summary>
    public static void For<TJob>(TJob job, nint count, nint align, nint minPerThread, int threads) where TJob : struct, IRangeJob
    {
        if (count <= 0)
            return;
        long useful = Math.Max(1, count / Math.Max(1, minPerThread));
        int workers = (int)Math.Min(threads, useful);
        if (workers <= 1)
        {
            job.Run(0, count);
            return;
        }
        nint chunks = (nint)workers * ChunksPerThread;
        nint size = (count + chunks - 1) / chunks;
        size = (size + align - 1) / align * align;
        nint chunkCount = (count + size - 1) / size;
        var options = new ParallelOptions { MaxDegreeOfParallelism = workers };
        Parallel.For(0L, (long)chunkCount, options, i =>
        {
            nint start = (nint)i * size;
            job.Run(start, Math.Min(count, start + size));
        });
    }
}
