using System.Runtime.InteropServices;

namespace PeftNative.Interop;

/// <summary>
/// The few C library calls .NET has no API for, declared with their C names. Unix only
/// (Linux, macOS); callers check the platform first. Today: making a rename durable, which needs
/// an fsync of the directory that holds the file (.NET cannot open a directory as a file), and
/// large anonymous allocations backed by transparent huge pages (Linux).
/// </summary>
public static unsafe partial class PosixMethods
{
    /// <summary>The C library; the runtime maps "libc" to the platform's C library.</summary>
    public const string LibraryName = "libc";

    /// <summary>open(2) flag: read only (0 on every Unix .NET runs on).</summary>
    public const int O_RDONLY = 0;

    /// <summary>errno EINVAL: the file system does not support the call on this kind of file.</summary>
    public const int EINVAL = 22;

    /// <summary>int open(const char *path, int flags); returns a descriptor or -1 with errno set. No O_CREAT, so no mode argument.</summary>
    [LibraryImport(LibraryName, SetLastError = true)]
    public static partial int open(byte* path, int flags);

    /// <summary>int fsync(int fd); 0 or -1 with errno set.</summary>
    [LibraryImport(LibraryName, SetLastError = true)]
    public static partial int fsync(int fd);

    /// <summary>int close(int fd); 0 or -1 with errno set.</summary>
    [LibraryImport(LibraryName, SetLastError = true)]
    public static partial int close(int fd);

    /// <summary>mmap protection: readable.</summary>
    public const int PROT_READ = 1;

    /// <summary>mmap protection: writable.</summary>
    public const int PROT_WRITE = 2;

    /// <summary>mmap flag: private copy-on-write mapping (Linux value).</summary>
    public const int MAP_PRIVATE = 0x02;

    /// <summary>mmap flag: not backed by a file, zero-filled (Linux value).</summary>
    public const int MAP_ANONYMOUS = 0x20;

    /// <summary>madvise advice: back the range with transparent huge pages (Linux value).</summary>
    public const int MADV_HUGEPAGE = 14;

    /// <summary>void *mmap(void *addr, size_t length, int prot, int flags, int fd, off_t offset); MAP_FAILED ((void*)-1) on error.</summary>
    [LibraryImport(LibraryName, SetLastError = true)]
    public static partial void* mmap(void* addr, nuint length, int prot, int flags, int fd, nint offset);

    /// <summary>int munmap(void *addr, size_t length); 0 or -1 with errno set.</summary>
    [LibraryImport(LibraryName, SetLastError = true)]
    public static partial int munmap(void* addr, nuint length);

    /// <summary>int madvise(void *addr, size_t length, int advice); 0 or -1 with errno set.</summary>
    [LibraryImport(LibraryName, SetLastError = true)]
    public static partial int madvise(void* addr, nuint length, int advice);
}
