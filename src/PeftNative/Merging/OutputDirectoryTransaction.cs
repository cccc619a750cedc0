using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using PeftNative.SafeTensors;

namespace PeftNative.Merging;

/// <summary>
/// A model directory that appears whole or not at all. Everything is written into a temporary
/// sibling named <c>.{name}.peftnative-partial-{pid}-{random}</c> (same file system, so the final
/// rename is atomic); <see cref="Commit"/> syncs it, renames it to the output name and syncs the
/// parent. <see cref="Dispose"/> without a commit deletes the temporary directory, so an
/// exception or a cancellation leaves nothing. A process killed mid-write leaves its temporary
/// sibling; the next transaction for the same output removes such siblings whose process is
/// gone. An existing output is replaced only when it is empty or a previous PeftNative output
/// (it holds <see cref="MergeProvenance.FileName"/>).
/// </summary>
internal sealed class OutputDirectoryTransaction : IDisposable
{
    private const string PartialTag = ".peftnative-partial-";
    private const string ReplacedTag = ".peftnative-replaced-";

    private readonly bool _durable;
    private bool _done;

    private OutputDirectoryTransaction(string outputPath, string parent, string temporaryPath, bool durable)
    {
        OutputPath = outputPath;
        Parent = parent;
        TemporaryPath = temporaryPath;
        _durable = durable;
    }

    /// <summary>The final directory.</summary>
    public string OutputPath { get; }

    /// <summary>Its parent directory.</summary>
    public string Parent { get; }

    /// <summary>Where the files are written until <see cref="Commit"/>.</summary>
    public string TemporaryPath { get; }

    /// <summary>
    /// Checks that <paramref name="outputPath"/> may be written (see <see cref="CheckReplaceable"/>),
    /// removes stale temporaries of earlier runs (each reported through <paramref name="notice"/>)
    /// and creates the temporary directory (and the parent, when missing).
    /// </summary>
    /// <exception cref="IOException">The output exists and may not be replaced, or the directory cannot be created.</exception>
    public static OutputDirectoryTransaction Begin(string outputPath, bool durable, Action<string> notice)
    {
        string full = Path.TrimEndingDirectorySeparator(Path.GetFullPath(outputPath));
        string name = Path.GetFileName(full);
        string parent = Path.GetDirectoryName(full) ?? throw new IOException($"output {full} has no parent directory");
        if (name.Length == 0)
            throw new IOException($"output {full} names no directory");
        CheckReplaceable(full);
        Directory.CreateDirectory(parent);
        RemoveStale(parent, name, notice);
        string temp = Path.Combine(parent, string.Create(CultureInfo.InvariantCulture,
            $".{name}{PartialTag}{Environment.ProcessId}-{Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(4))}"));
        Directory.CreateDirectory(temp);
        return new OutputDirectoryTransaction(full, parent, temp, durable);
    }

    /// <summary>Throws unless <paramref name="output"/> is absent, an empty directory or a previous PeftNative output.</summary>
    /// <exception cref="IOException">It is a file, or a directory with other contents.</exception>
    public static void CheckReplaceable(string output)
    {
        if (File.Exists(output))
            throw new IOException($"output {output} is a file; name a directory to create");
        if (!Directory.Exists(output) || !Directory.EnumerateFileSystemEntries(output).Any())
            return;
        if (!File.Exists(Path.Combine(output, MergeProvenance.FileName)))
            throw new IOException($"output {output} already exists and is not a PeftNative merge output (no {MergeProvenance.FileName}); remove it or choose another directory");
    }

    /// <summary>Publishes the temporary directory under the output name.</summary>
    /// <exception cref="IOException">The rename failed (the temporary directory is removed; an output that was there is kept).</exception>
    public void Commit()
    {
        ObjectDisposedException.ThrowIf(_done, this);
        if (_durable)
            AtomicFileSet.SyncDirectory(TemporaryPath);
        CheckReplaceable(OutputPath); // it may have appeared while we wrote
        string? replaced = null;
        if (Directory.Exists(OutputPath))
        {
            replaced = Path.Combine(Parent, string.Create(CultureInfo.InvariantCulture,
                $".{Path.GetFileName(OutputPath)}{ReplacedTag}{Environment.ProcessId}-{Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(4))}"));
            Directory.Move(OutputPath, replaced);
        }
        try
        {
            Directory.Move(TemporaryPath, OutputPath);
        }
        catch
        {
            if (replaced is not null)
                Directory.Move(replaced, OutputPath);
            throw;
        }
        _done = true;
        if (_durable)
            AtomicFileSet.SyncDirectory(Parent);
        if (replaced is not null)
            TryDeleteDirectory(replaced);
    }

    /// <summary>Removes the temporary directory unless committed.</summary>
    public void Dispose()
    {
        if (_done)
            return;
        _done = true;
        TryDeleteDirectory(TemporaryPath);
    }

    /// <summary>Deletes <c>.{name}.peftnative-partial-{pid}-*</c> (and <c>-replaced-</c>) siblings whose process no longer runs.</summary>
    private static void RemoveStale(string parent, string name, Action<string> notice)
    {
        foreach (string dir in Directory.EnumerateDirectories(parent, "." + name + ".peftnative-*"))
        {
            string rest = Path.GetFileName(dir)[(name.Length + 1)..];
            string? tail = rest.StartsWith(PartialTag, StringComparison.Ordinal) ? rest[PartialTag.Length..]
                : rest.StartsWith(ReplacedTag, StringComparison.Ordinal) ? rest[ReplacedTag.Length..] : null;
            int dash = tail?.IndexOf('-', StringComparison.Ordinal) ?? -1;
            if (tail is null || dash <= 0 || !int.TryParse(tail.AsSpan(0, dash), NumberStyles.None, CultureInfo.InvariantCulture, out int pid))
                continue;
            if (pid == Environment.ProcessId || IsRunning(pid))
                continue; // a live merge (this process's or another's) may be writing it
            TryDeleteDirectory(dir);
            notice($"removed {dir}, left by an interrupted merge (process {pid})");
        }
    }

    private static bool IsRunning(int pid)
    {
        try
        {
            using var p = Process.GetProcessById(pid);
            return !p.HasExited;
        }
        catch (ArgumentException)
        {
            return false;
        }
        catch (InvalidOperationException)
        {
            return false;
        }
    }

    private static void TryDeleteDirectory(string path)
    {
        try
        {
            if (Directory.Exists(path))
                Directory.Delete(path, recursive: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Best effort: the original failure is what the caller needs to see; the next run removes it.
        }
    }
}
