using System.Runtime.InteropServices;
using PeftNative.Interop;

namespace PeftNative;

/// <summary>
/// Zeroed host memory for owned tensors. Small blocks come from the C heap and are cleared;
/// large blocks on Linux are anonymous mappings aligned to 2 MiB and advised onto transparent
/// huge pages. The kernel hands those out already zero, so there is no clearing pass (a full
/// extra write of the tensor), and the first touch costs one fault per 2 MiB instead of one
/// per 4 KiB — both matter for kernels that write fresh outputs at memory speed.
/// </summary>
internal static unsafe class HostMemory
{
    /// <summary>Blocks at least this large are mapped (two huge pages: below that the heap is as good).</summary>
    public const long MappedThreshold = 4L << 20;

    private const long HugePage = 2L << 20;

    /// <summary>Allocates <paramref name="bytes"/> zeroed bytes, 64-byte aligned at least.</summary>
    /// <param name="bytes">Size; 0 allocates a minimal block.</param>
    /// <param name="alignment">Alignment of heap blocks (mapped blocks are 2 MiB aligned).</param>
    /// <param name="mappedBytes">Length of the mapping to pass to <see cref="Free"/>, or 0 for a heap block.</param>
    public static void* Allocate(long bytes, int alignment, out long mappedBytes)
    {
        mappedBytes = 0;
        if (bytes >= MappedThreshold && OperatingSystem.IsLinux() && TryMap(bytes, out void* mapped, out long length))
        {
            mappedBytes = length;
            return mapped;
        }
        void* p = NativeMemory.AlignedAlloc((nuint)Math.Max(bytes, 1), (nuint)alignment);
        NativeMemory.Clear(p, (nuint)bytes);
        return p;
    }

    /// <summary>Frees a block from <see cref="Allocate"/>.</summary>
    public static void Free(void* p, long mappedBytes)
    {
        if (mappedBytes > 0)
            _ = PosixMethods.munmap(p, (nuint)mappedBytes);
        else
            NativeMemory.AlignedFree(p);
    }

    // Map one huge page more than needed, then unmap the unaligned head and the tail, so the block
    // starts on a 2 MiB boundary (transparent huge pages need aligned 2 MiB ranges).
    private static bool TryMap(long bytes, out void* block, out long length)
    {
        length = (bytes + HugePage - 1) / HugePage * HugePage;
        long reserve = length + HugePage;
        byte* raw = (byte*)PosixMethods.mmap(null, (nuint)reserve, PosixMethods.PROT_READ | PosixMethods.PROT_WRITE,
            PosixMethods.MAP_PRIVATE | PosixMethods.MAP_ANONYMOUS, -1, 0);
        if (raw == (byte*)-1 || raw == null)
        {
            block = null;
            return false;
        }
        byte* aligned = (byte*)(((nint)raw + (nint)(HugePage - 1)) & ~(nint)(HugePage - 1));
        long head = aligned - raw;
        if (head > 0)
            _ = PosixMethods.munmap(raw, (nuint)head);
        long tail = reserve - head - length;
        if (tail > 0)
            _ = PosixMethods.munmap(aligned + length, (nuint)tail);
        // Advice only: without THP the mapping still works, with 4 KiB pages.
        _ = PosixMethods.madvise(aligned, (nuint)length, PosixMethods.MADV_HUGEPAGE);
        block = aligned;
        return true;
    }
}
