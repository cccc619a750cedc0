namespace PeftNative.SafeTensors;

/// <summary>
/// A checkpoint presented as one set of tensors: a single .safetensors file, a
/// <c>*.safetensors.index.json</c> (sharded; its weight_map checked against the shards), or a
/// directory holding either (model.safetensors.index.json preferred, then model.safetensors,
/// then the only *.safetensors.index.json, then the only *.safetensors file). Every shard is
/// opened (header only) and checked at open.
/// </summary>
/// <remarks>
/// Sharded checks, each a <see cref="SafetensorsFormatException"/> naming the index: the index
/// itself is valid (see <see cref="SafetensorsIndex"/>); every shard it names exists; no tensor is in
/// two shards; every weight_map entry's tensor is in the shard it names; every tensor in a shard is
/// listed in the weight_map (strict: a tensor the index does not know about is an error, not a
/// warning). A broken shard is reported by its own path. Views become invalid on <see cref="Dispose"/>.
/// </remarks>
public sealed class SafetensorsCollection : ITensorSource
{
    private const string IndexSuffix = ".safetensors.index.json";

    private readonly SafetensorsFile[] _files;
    private readonly Dictionary<string, SafetensorsFile> _owner;

    private SafetensorsCollection(string sourcePath, SafetensorsFile[] files, Dictionary<string, SafetensorsFile> owner)
    {
        SourcePath = sourcePath;
        _files = files;
        _owner = owner;
        Files = Array.AsReadOnly(files.Select(f => f.SourcePath).ToArray());
        Tensors = Array.AsReadOnly(files.SelectMany(f => f.Tensors).ToArray());
    }

    /// <summary>Opens a file, an index file or a directory.</summary>
    /// <param name="path">A .safetensors file, a .json index, or a directory (see the class summary for the choice).</param>
    /// <exception cref="SafetensorsFormatException">A shard or the index breaks the format, or they disagree;
    /// or a directory holds several candidates and none of the preferred names.</exception>
    /// <exception cref="FileNotFoundException">Nothing to open at that path.</exception>
    public static SafetensorsCollection Open(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        string full = Path.GetFullPath(path);
        string target;
        if (Directory.Exists(full))
            target = ChooseInDirectory(full);
        else if (File.Exists(full))
            target = full;
        else
            throw new FileNotFoundException($"nothing to open at {full}", full);

        if (target.EndsWith(".json", StringComparison.OrdinalIgnoreCase))
            return OpenIndex(full, target);
        var file = SafetensorsFile.Open(target);
        var owner = new Dictionary<string, SafetensorsFile>(file.Tensors.Count, StringComparer.Ordinal);
        foreach (var t in file.Tensors)
            owner.Add(t.Name, file);
        return new SafetensorsCollection(full, [file], owner);
    }

    /// <summary>The files the tensors live in: one, or the shards in file-name order (shard order for Hugging Face names).</summary>
    public IReadOnlyList<string> Files { get; }

    /// <inheritdoc />
    public string SourcePath { get; }

    /// <inheritdoc />
    public IReadOnlyList<SafetensorsTensorInfo> Tensors { get; }

    /// <inheritdoc />
    public IReadOnlyDictionary<string, string> Metadata => _files[0].Metadata;

    /// <inheritdoc />
    public bool Contains(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        return _owner.ContainsKey(name);
    }

    /// <inheritdoc />
    public SafetensorsTensorInfo GetInfo(string name) => Owner(name).GetInfo(name);

    /// <inheritdoc />
    /// <exception cref="ObjectDisposedException">The collection was disposed.</exception>
    public Tensor GetTensor(string name) => Owner(name).GetTensor(name);

    /// <summary>Unmaps every file. Views from <see cref="GetTensor"/> are invalid afterwards.</summary>
    public void Dispose()
    {
        foreach (var f in _files)
            f.Dispose();
    }

    private SafetensorsFile Owner(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        if (_owner.TryGetValue(name, out var file))
            return file;
        throw new KeyNotFoundException($"{SourcePath}: no tensor {StrictJson.Quote(name)} (the checkpoint holds {_owner.Count} tensors in {_files.Length} file(s))");
    }

    /// <summary>Picks what to open in a directory, by the order in the class summary.</summary>
    private static string ChooseInDirectory(string directory)
    {
        foreach (string preferred in new[] { "model" + IndexSuffix, "model.safetensors" })
        {
            string candidate = Path.Combine(directory, preferred);
            if (File.Exists(candidate))
                return candidate;
        }
        string[] indexes = Directory.GetFiles(directory, "*" + IndexSuffix);
        if (indexes.Length == 1)
            return indexes[0];
        if (indexes.Length > 1)
            throw Ambiguous(directory, indexes, "index files");
        string[] files = Directory.GetFiles(directory, "*.safetensors");
        return files.Length switch
        {
            1 => files[0],
            0 => throw new FileNotFoundException($"no .safetensors file or *{IndexSuffix} in directory {directory}", directory),
            _ => throw Ambiguous(directory, files, ".safetensors files"),
        };
    }

    private static SafetensorsFormatException Ambiguous(string directory, string[] candidates, string what) =>
        new(directory, null, $"the directory holds several {what} and none is named model{(what == "index files" ? IndexSuffix : ".safetensors")}; " +
            $"open one of them: {string.Join(", ", candidates.Select(Path.GetFileName).Order(StringComparer.Ordinal))}");

    private static SafetensorsCollection OpenIndex(string sourcePath, string indexPath)
    {
        var index = SafetensorsIndex.Load(indexPath);
        string directory = Path.GetDirectoryName(indexPath)!;
        var files = new List<SafetensorsFile>(index.ShardNames.Count);
        try
        {
            foreach (string shard in index.ShardNames)
            {
                string shardPath = Path.Combine(directory, shard);
                if (!File.Exists(shardPath))
                    throw new SafetensorsFormatException(indexPath, null, $"shard {StrictJson.Quote(shard)} named in the weight_map does not exist ({shardPath})");
                files.Add(SafetensorsFile.Open(shardPath));
            }
            var owner = CrossCheck(index, files);
            return new SafetensorsCollection(sourcePath, [.. files], owner);
        }
        catch
        {
            foreach (var f in files)
                f.Dispose();
            throw;
        }
    }

    /// <summary>Checks the weight_map against what the shards hold; returns tensor name to shard.</summary>
    private static Dictionary<string, SafetensorsFile> CrossCheck(SafetensorsIndex index, List<SafetensorsFile> files)
    {
        string indexPath = index.FilePath;
        var owner = new Dictionary<string, SafetensorsFile>(index.WeightMap.Count, StringComparer.Ordinal);
        foreach (var file in files)
        {
            foreach (var t in file.Tensors)
            {
                if (owner.TryGetValue(t.Name, out var other))
                    throw new SafetensorsFormatException(indexPath, t.Name, $"appears in two shards: '{Path.GetFileName(other.SourcePath)}' and '{Path.GetFileName(file.SourcePath)}'");
                owner.Add(t.Name, file);
            }
        }
        foreach (var (tensor, shard) in index.WeightMap)
        {
            if (!owner.TryGetValue(tensor, out var holder) || Path.GetFileName(holder.SourcePath) != shard)
            {
                string where = holder is null ? "no shard holds it" : $"it is in '{Path.GetFileName(holder.SourcePath)}'";
                throw new SafetensorsFormatException(indexPath, tensor, $"the weight_map places it in {StrictJson.Quote(shard)}, which does not hold it ({where})");
            }
        }
        foreach (var (tensor, file) in owner)
        {
            if (!index.WeightMap.ContainsKey(tensor))
                throw new SafetensorsFormatException(indexPath, tensor, $"is in shard '{Path.GetFileName(file.SourcePath)}' but not listed in the weight_map");
        }
        return owner;
    }
}
