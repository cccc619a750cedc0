namespace PeftNative.Merging;

/// <summary>
/// The physical path of a file or directory: absolute, with every symbolic link along the way
/// resolved (components that do not exist yet are kept as written), so that two names for one
/// place compare equal.
/// </summary>
internal static class RealPath
{
    private const int MaxLinks = 40; // as Linux's ELOOP limit

    /// <summary>Resolves <paramref name="path"/>.</summary>
    /// <exception cref="IOException">A symbolic-link loop.</exception>
    public static string Resolve(string path)
    {
        string full = Path.GetFullPath(path);
        string root = Path.GetPathRoot(full) ?? "/";
        var pending = new Stack<string>(full[root.Length..].Split(Path.DirectorySeparatorChar, StringSplitOptions.RemoveEmptyEntries).Reverse());
        string current = root;
        int links = 0;
        while (pending.Count > 0)
        {
            string part = pending.Pop();
            if (part == ".")
                continue;
            if (part == "..")
            {
                current = Path.GetDirectoryName(current) ?? root;
                continue;
            }
            string next = Path.Combine(current, part);
            FileSystemInfo info = Directory.Exists(next) ? new DirectoryInfo(next) : new FileInfo(next);
            if (info.Exists && info.LinkTarget is { } target)
            {
                if (++links > MaxLinks)
                    throw new IOException($"too many symbolic links resolving {path}");
                string resolved = Path.IsPathRooted(target) ? target : Path.Combine(current, target);
                string resolvedRoot = Path.GetPathRoot(resolved) ?? root;
                foreach (string p in resolved[resolvedRoot.Length..].Split(Path.DirectorySeparatorChar, StringSplitOptions.RemoveEmptyEntries).Reverse())
                    pending.Push(p);
                current = resolvedRoot;
                continue;
            }
            current = next;
        }
        return Path.TrimEndingDirectorySeparator(current);
    }

    /// <summary>True when <paramref name="inner"/> is <paramref name="outer"/> or lies inside it (both resolved).</summary>
    public static bool IsSameOrInside(string inner, string outer) =>
        string.Equals(inner, outer, StringComparison.Ordinal)
        || inner.StartsWith(Path.TrimEndingDirectorySeparator(outer) + Path.DirectorySeparatorChar, StringComparison.Ordinal)
        || outer == Path.GetPathRoot(outer);
}
