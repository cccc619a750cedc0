using System.Globalization;
using System.Text.RegularExpressions;

namespace PeftNative.SafeTensors;

/// <summary>
/// What one <see cref="SafetensorsWriter.Write"/> call will produce, worked out from the
/// declarations alone before a byte is written: the tensors in file order, split into shards, each
/// shard's header, and the index.
/// <para>
/// Order (huggingface/safetensors <c>prepare</c>: <c>right.dtype().cmp(&amp;left.dtype()).then(lname.cmp(rname))</c>):
/// dtype by the reference's Dtype enum order, descending (<see cref="DTypeInfo.SafetensorsRank"/>),
/// then name by code point (Rust compares the UTF-8 bytes). Data is contiguous from offset 0.
/// </para>
/// <para>
/// Shards (with a byte limit): the ordered tensors are cut greedily into runs whose data fits the
/// limit; a tensor larger than the limit gets a shard of its own. Unlike huggingface_hub, which
/// leaves the current shard open past an oversized tensor, shards here keep the file order, so
/// every shard is a contiguous run of it. Names are <c>{stem}-{i:00000}-of-{n:00000}{ext}</c>
/// beside the target (<c>model.safetensors</c> → <c>model-00001-of-00003.safetensors</c>) and the
/// index is <c>{target}.index.json</c>. When everything fits one shard the target is written as a
/// single file with no index (transformers does the same).
/// </para>
/// </summary>
internal sealed class SafetensorsShardPlan
{
    private SafetensorsShardPlan(string targetPath, IReadOnlyList<SafetensorsShard> shards, string? indexPath, long totalDataBytes)
    {
        TargetPath = targetPath;
        Shards = shards;
        IndexPath = indexPath;
        TotalDataBytes = totalDataBytes;
    }

    /// <summary>The full path the caller named.</summary>
    public string TargetPath { get; }

    /// <summary>Files to write, in order.</summary>
    public IReadOnlyList<SafetensorsShard> Shards { get; }

    /// <summary>Path of the index, or null for a single file.</summary>
    public string? IndexPath { get; }

    /// <summary>Sum of the data bytes of every tensor (the index's total_size).</summary>
    public long TotalDataBytes { get; }

    /// <summary>Orders, checks and splits the tensors and builds every header.</summary>
    /// <exception cref="ArgumentException">A duplicate name, a null entry or metadata value, a total that overflows, a header over the limit.</exception>
    public static SafetensorsShardPlan Create(string fullPath, IEnumerable<SafetensorsEntry> tensors,
        IReadOnlyDictionary<string, string>? metadata, long? maxShardBytes)
    {
        var entries = new List<SafetensorsEntry>();
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var e in tensors)
        {
            if (e is null)
                throw new ArgumentException("the tensor list contains a null entry", nameof(tensors));
            if (!names.Add(e.Name))
                throw new ArgumentException($"tensor '{e.Name}' is listed twice", nameof(tensors));
            entries.Add(e);
        }
        if (metadata is not null)
        {
            foreach (var (key, value) in metadata)
            {
                if (value is null)
                    throw new ArgumentException($"metadata '{key}' has a null value (safetensors metadata is a string-to-string map)", nameof(metadata));
                if (!SafetensorsEntry.IsWellFormed(key) || !SafetensorsEntry.IsWellFormed(value))
                    throw new ArgumentException($"metadata '{key}' contains a lone UTF-16 surrogate (not encodable as UTF-8)", nameof(metadata));
            }
        }
        entries.Sort(FileOrder);

        long total = 0;
        foreach (var e in entries)
        {
            try
            {
                total = checked(total + e.ByteLength);
            }
            catch (OverflowException)
            {
                throw new ArgumentException($"tensor '{e.Name}': the data bytes of all tensors together overflow a 64-bit size", nameof(tensors));
            }
        }

        var runs = new List<List<SafetensorsEntry>>();
        if (maxShardBytes is not { } limit)
        {
            runs.Add(entries);
        }
        else
        {
            var current = new List<SafetensorsEntry>();
            long size = 0;
            foreach (var e in entries)
            {
                if (current.Count > 0 && (e.ByteLength > limit - size))
                {
                    runs.Add(current);
                    current = [];
                    size = 0;
                }
                current.Add(e);
                size += e.ByteLength;
            }
            runs.Add(current); // the last (or only, possibly empty) run
        }

        string directory = Path.GetDirectoryName(fullPath)!;
        var shards = new List<SafetensorsShard>(runs.Count);
        if (runs.Count == 1)
        {
            shards.Add(SafetensorsShard.Build(fullPath, runs[0], metadata));
            return new SafetensorsShardPlan(fullPath, shards, null, total);
        }
        var (stem, extension) = SplitName(fullPath);
        for (int i = 0; i < runs.Count; i++)
            shards.Add(SafetensorsShard.Build(Path.Combine(directory, ShardName(stem, extension, i + 1, runs.Count)), runs[i], metadata));
        return new SafetensorsShardPlan(fullPath, shards, fullPath + ".index.json", total);
    }

    /// <summary>The index file's bytes (null for a single file).</summary>
    public byte[]? BuildIndex()
    {
        if (IndexPath is null)
            return null;
        var map = Shards.SelectMany(s => s.Entries.Select(e => KeyValuePair.Create(e.Name, Path.GetFileName(s.Path))));
        return SafetensorsHeaderJson.BuildIndex(TotalDataBytes, map);
    }

    /// <summary>
    /// Files of an earlier checkpoint at the same target that this write did not replace and that
    /// would otherwise be read in its place: shards <c>{stem}-NNNNN-of-NNNNN{ext}</c> that are not
    /// ours, the single file when we wrote shards (loaders try it before the index), the index when
    /// we wrote a single file.
    /// </summary>
    public IReadOnlyList<string> StaleFiles()
    {
        string directory = Path.GetDirectoryName(TargetPath)!;
        var ours = new HashSet<string>(Shards.Select(s => s.Path), StringComparer.Ordinal);
        if (IndexPath is not null)
            ours.Add(IndexPath);
        var stale = new List<string>();
        var (stem, extension) = SplitName(TargetPath);
        var pattern = new Regex("^" + Regex.Escape(stem) + @"-[0-9]{5,}-of-[0-9]{5,}" + Regex.Escape(extension) + "$", RegexOptions.CultureInvariant);
        foreach (var file in Directory.EnumerateFiles(directory))
        {
            if (!ours.Contains(file) && pattern.IsMatch(Path.GetFileName(file)))
                stale.Add(file);
        }
        string other = IndexPath is null ? TargetPath + ".index.json" : TargetPath;
        if (File.Exists(other))
            stale.Add(other);
        return stale;
    }

    /// <summary>Shard file name: <c>{stem}-{index:00000}-of-{count:00000}{extension}</c>.</summary>
    public static string ShardName(string stem, string extension, int index, int count) =>
        string.Create(CultureInfo.InvariantCulture, $"{stem}-{index:D5}-of-{count:D5}{extension}");

    /// <summary>The reference order: dtype rank descending, then name by code point.</summary>
    public static int FileOrder(SafetensorsEntry a, SafetensorsEntry b)
    {
        int byDType = b.DType.SafetensorsRank().CompareTo(a.DType.SafetensorsRank());
        return byDType != 0 ? byDType : CodePointOrder.Compare(a.Name, b.Name);
    }

    private static (string Stem, string Extension) SplitName(string fullPath)
    {
        string name = Path.GetFileName(fullPath);
        string extension = Path.GetExtension(name);
        return (name[..^extension.Length], extension);
    }
}

/// <summary>One file to write: its tensors in file order and its padded header.</summary>
internal sealed class SafetensorsShard
{
    private SafetensorsShard(string path, IReadOnlyList<SafetensorsEntry> entries, byte[] header, long dataBytes)
    {
        Path = path;
        Entries = entries;
        Header = header;
        DataBytes = dataBytes;
    }

    /// <summary>Final path.</summary>
    public string Path { get; }

    /// <summary>Tensors in file order.</summary>
    public IReadOnlyList<SafetensorsEntry> Entries { get; }

    /// <summary>Header JSON padded to a multiple of 8 bytes (without the length prefix).</summary>
    public byte[] Header { get; }

    /// <summary>Bytes of the data section.</summary>
    public long DataBytes { get; }

    /// <summary>Size of the whole file: 8 + header + data.</summary>
    public long FileBytes => 8 + Header.Length + DataBytes;

    /// <summary>Lays out <paramref name="entries"/> (already in file order) from offset 0 and builds the header.</summary>
    public static SafetensorsShard Build(string path, IReadOnlyList<SafetensorsEntry> entries, IReadOnlyDictionary<string, string>? metadata)
    {
        var infos = new List<SafetensorsHeaderEntry>(entries.Count);
        long offset = 0;
        foreach (var e in entries)
        {
            infos.Add(new SafetensorsHeaderEntry(e.Name, e.DType, e.Shape, offset, offset + e.ByteLength));
            offset += e.ByteLength;
        }
        return new SafetensorsShard(path, entries, SafetensorsHeaderJson.BuildHeader(infos, metadata), offset);
    }
}
