using System.Collections.Concurrent;
using System.Runtime.InteropServices;

namespace PeftNative.Composition;

/// <summary>
/// Keeps the memory of disposed composition outputs for the next composition, by exact size.
/// Fresh memory costs a page fault per 4 KiB page on first write, which on the paper method's fast
/// path (a memory-bound sum) measured about half again the kernel's own time; a service that
/// composes repeatedly gets its pages back already mapped. At most <see cref="MaxRetainedBytes"/>
/// are kept; beyond that, blocks are freed. Thread-safe.
/// </summary>
internal static unsafe class NativeBlockPool
{
    /// <summary>Most bytes kept for reuse (256 MiB: the outputs of a few typical compositions).</summary>
    public const long MaxRetainedBytes = 256L << 20;

    private static readonly ConcurrentDictionary<long, ConcurrentStack<nint>> Free = new();
    private static long s_retained;

    /// <summary>Bytes currently kept.</summary>
    public static long RetainedBytes => Interlocked.Read(ref s_retained);

    /// <summary>A 64-byte aligned block of <paramref name="bytes"/> (contents undefined): a kept one of that size, else a new one.</summary>
    public static nint Rent(long bytes)
    {
        if (Free.TryGetValue(bytes, out var stack) && stack.TryPop(out nint kept))
        {
            Interlocked.Add(ref s_retained, -bytes);
            return kept;
        }
        return (nint)NativeMemory.AlignedAlloc((nuint)Math.Max(bytes, 1), (nuint)Tensor.Alignment);
    }

    /// <summary>Takes a block back: kept while the pool has room, freed otherwise.</summary>
    public static void Return(nint block, long bytes)
    {
        if (Interlocked.Add(ref s_retained, bytes) <= MaxRetainedBytes)
        {
            Free.GetOrAdd(bytes, static _ => new ConcurrentStack<nint>()).Push(block);
            return;
        }
        Interlocked.Add(ref s_retained, -bytes);
        NativeMemory.AlignedFree((void*)block);
    }

    /// <summary>Frees every kept block (tests; or a caller that wants the memory back now).</summary>
    public static void Trim()
    {
        foreach (var (bytes, stack) in Free)
        {
            while (stack.TryPop(out nint block))
            {
                Interlocked.Add(ref s_retained, -bytes);
                NativeMemory.AlignedFree((void*)block);
            }
        }
    }
}
