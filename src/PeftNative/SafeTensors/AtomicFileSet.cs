using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text;
using PeftNative.Interop;

namespace PeftNative.SafeTensors;

/// <summary>
/// Files that appear together or not at all. Each is written to a temporary file in the target
/// directory (<c>.{name}.{random}.tmp</c>: same file system, so the publishing rename is atomic);
/// <see cref="Commit"/> renames every one over its final name, files first to last, and, when
/// durable, fsyncs the directory so the renames survive a crash. <see cref="Dispose"/> before (or
/// without) <see cref="Commit"/> deletes every temporary file: after a failure or a cancellation
/// nothing is left behind and files that were already there are untouched.
/// <para>
/// A rename replaces the directory entry, not the file: a reader that has the old file open or
/// memory-mapped keeps reading the old bytes until it closes it (on Unix; Windows refuses to
/// replace a file that is open without delete sharing, and the commit then fails).
/// </para>
/// </summary>
internal sealed class AtomicFileSet : IDisposable
{
    /// <summary>FileStream buffer: small writes are gathered into 1 MiB system calls; larger ones go straight through.</summary>
    public const int BufferBytes = 1 << 20;

    private readonly string _directory;
    private readonly bool _durable;
    private readonly List<(string Temp, string Final)> _files = [];
    private readonly HashSet<string> _finals = new(StringComparer.Ordinal);
    private int _published;
    private bool _committed;

    /// <summary>A set whose files all live in <paramref name="directory"/>.</summary>
    public AtomicFileSet(string directory, bool durable)
    {
        _directory = directory;
        _durable = durable;
    }

    /// <summary>Final paths, in the order they were added.</summary>
    public IReadOnlyList<string> FinalPaths => _files.ConvertAll(f => f.Final);

    /// <summary>
    /// Creates the temporary file for <paramref name="finalPath"/> (which must be in the set's
    /// directory) and returns it open for writing. Close it before <see cref="Commit"/>.
    /// </summary>
    public FileStream Create(string finalPath)
    {
        ObjectDisposedException.ThrowIf(_committed, this);
        if (!string.Equals(Path.GetDirectoryName(finalPath), _directory, StringComparison.Ordinal))
            throw new ArgumentException($"{finalPath} is not in {_directory}", nameof(finalPath));
        if (!_finals.Add(finalPath))
            throw new ArgumentException($"{finalPath} is already part of this write", nameof(finalPath));
        string name = Path.GetFileName(finalPath);
        if (name.Length > 200)
            name = name[..200];
        string temp = Path.Combine(_directory, $".{name}.{Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(6))}.tmp");
        _files.Add((temp, finalPath)); // before creating: Dispose deletes it whatever happens next
        return new FileStream(temp, new FileStreamOptions
        {
            Mode = FileMode.CreateNew,
            Access = FileAccess.Write,
            Share = FileShare.None,
            BufferSize = BufferBytes,
        });
    }

    /// <summary>Writes a small file of the set in one go.</summary>
    public void Add(string finalPath, ReadOnlySpan<byte> content)
    {
        using var stream = Create(finalPath);
        stream.Write(content);
        Finish(stream);
    }

    /// <summary>Flushes a file of the set (to the disk when durable); the caller then disposes it.</summary>
    public void Finish(FileStream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        stream.Flush(flushToDisk: _durable);
    }

    /// <summary>
    /// Publishes every file: renames each temporary file over its final name, then (durable)
    /// fsyncs the directory. Each rename is atomic; a set of several files is published one file
    /// after another, so a reader looking in between can see some new files beside old ones.
    /// </summary>
    /// <exception cref="IOException">A rename failed: the files not yet published are deleted; the
    /// message says which were published (those that did not exist before are removed again).</exception>
    public void Commit()
    {
        ObjectDisposedException.ThrowIf(_committed, this);
        var existedBefore = _files.ConvertAll(f => File.Exists(f.Final));
        try
        {
            for (; _published < _files.Count; _published++)
                File.Move(_files[_published].Temp, _files[_published].Final, overwrite: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            var replaced = new List<string>();
            for (int i = 0; i < _published; i++)
            {
                if (existedBefore[i])
                    replaced.Add(_files[i].Final);
                else
                    TryDelete(_files[i].Final);
            }
            string what = replaced.Count == 0 ? "no existing file was replaced"
                : "these files had already been replaced: " + string.Join(", ", replaced);
            throw new IOException($"publishing {_files[_published].Final} failed ({e.Message}); {what}", e);
        }
        _committed = true;
        if (_durable)
            SyncDirectory(_directory);
    }

    /// <summary>Deletes the temporary files that were not published.</summary>
    public void Dispose()
    {
        for (int i = _published; i < _files.Count; i++)
            TryDelete(_files[i].Temp);
        _published = _files.Count;
        _committed = true;
    }

    /// <summary>fsync of a directory, which makes the renames in it durable (Unix; a no-op on Windows, where NTFS journals renames).</summary>
    /// <exception cref="IOException">The directory could not be opened or synced.</exception>
    public static unsafe void SyncDirectory(string directory)
    {
        if (OperatingSystem.IsWindows())
            return;
        byte[] path = Encoding.UTF8.GetBytes(directory + "\0");
        int fd;
        fixed (byte* p = path)
            fd = PosixMethods.open(p, PosixMethods.O_RDONLY);
        if (fd < 0)
            throw new IOException($"cannot open directory {directory} to sync it: {Marshal.GetPInvokeErrorMessage(Marshal.GetLastPInvokeError())}");
        try
        {
            if (PosixMethods.fsync(fd) != 0)
            {
                int errno = Marshal.GetLastPInvokeError();
                if (errno != PosixMethods.EINVAL) // a file system that cannot sync directories: nothing more to do
                    throw new IOException($"fsync of directory {directory} failed: {Marshal.GetPInvokeErrorMessage(errno)}");
            }
        }
        finally
        {
            _ = PosixMethods.close(fd);
        }
    }

    private static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Best effort: the original failure is what the caller needs to see.
        }
    }
}
