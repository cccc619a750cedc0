using System.Runtime.InteropServices;

namespace PeftNative.Benchmarking;

/// <summary>
/// The harness's one big buffer: allocated and touched once, before anything is timed (a fresh
/// page costs 11-17 us to fault in), then carved into the cold copies of every case and into the
/// memory probe's array. Peak memory stays near its size however many cases run.
/// </summary>
internal sealed unsafe class ColdPool : IDisposable
{
    /// <summary>Alignment of the pool and of every tensor carved from it (one page).</summary>
    public const long PageBytes = 4096;

    /// <summary>A 16-bit pattern that is a normal, finite number as f16 (1.0), bf16 (2^-7) and, doubled, as f32 (~0.0078).</summary>
    public const ushort FillPattern = 0x3C00;

    private byte* _data;

    public ColdPool(long bytes, int threads)
    {
        Capacity = AlignUp(Math.Max(bytes, PageBytes));
        _data = (byte*)NativeMemory.AlignedAlloc((nuint)Capacity, (nuint)PageBytes);
        Fill(0, Capacity, threads);
    }

    /// <summary>Usable bytes.</summary>
    public long Capacity { get; }

    /// <summary>Address of byte <paramref name="offset"/>.</summary>
    public nint At(long offset)
    {
        ObjectDisposedException.ThrowIf(_data == null, this);
        if ((ulong)offset > (ulong)Capacity)
            throw new ArgumentOutOfRangeException(nameof(offset));
        return (nint)(_data + offset);
    }

    /// <summary>Rounds up to a whole page.</summary>
    public static long AlignUp(long bytes) => (bytes + PageBytes - 1) / PageBytes * PageBytes;

    /// <summary>Writes <see cref="FillPattern"/> over [offset, offset + bytes) on up to <paramref name="threads"/> threads.</summary>
    public void Fill(long offset, long bytes, int threads)
    {
        ObjectDisposedException.ThrowIf(_data == null, this);
        const long Chunk = 16L << 20;
        long chunks = (bytes + Chunk - 1) / Chunk;
        byte* start = _data + offset;
        Parallel.For(0, chunks, new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, threads) }, c =>
        {
            long begin = c * Chunk;
            long count = Math.Min(Chunk, bytes - begin) / sizeof(ushort);
            new Span<ushort>(start + begin, (int)count).Fill(FillPattern);
        });
    }

    public void Dispose()
    {
        if (_data != null)
        {
            NativeMemory.AlignedFree(_data);
            _data = null;
        }
    }
}
