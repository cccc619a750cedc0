using System.Text.Json;

namespace PeftNative.SafeTensors;

/// <summary>
/// A sharded checkpoint's index (<c>model.safetensors.index.json</c>, Hugging Face layout):
/// <c>{"metadata": {...}, "weight_map": {"tensor": "shard file", ...}}</c>. Shard names must be
/// plain file names in the index's directory: an index is input, and "../x" or "/x" would let it
/// point a reader anywhere on the machine. The metadata object (e.g. total_size) is checked to be
/// an object and otherwise ignored, as are unknown top-level keys (other tools add their own).
/// </summary>
internal sealed class SafetensorsIndex
{
    /// <summary>Largest index file read (the header limit: an index lists at most as much as headers do).</summary>
    public const long MaxIndexBytes = SafetensorsHeader.MaxHeaderBytes;

    private SafetensorsIndex(string path, IReadOnlyDictionary<string, string> weightMap, IReadOnlyList<string> shardNames)
    {
        FilePath = path;
        WeightMap = weightMap;
        ShardNames = shardNames;
    }

    /// <summary>The index file.</summary>
    public string FilePath { get; }

    /// <summary>Tensor name to shard file name.</summary>
    public IReadOnlyDictionary<string, string> WeightMap { get; }

    /// <summary>The distinct shard file names, in ordinal order (shard order for Hugging Face's "-0000k-of-0000n" names).</summary>
    public IReadOnlyList<string> ShardNames { get; }

    /// <summary>Reads and validates an index file.</summary>
    /// <exception cref="SafetensorsFormatException">The index is not a valid index.</exception>
    public static SafetensorsIndex Load(string path)
    {
        long length = new FileInfo(path).Length;
        if (length > MaxIndexBytes)
            throw new SafetensorsFormatException(path, null, $"index file is {length} bytes, over the limit of {MaxIndexBytes} bytes");
        return Parse(File.ReadAllBytes(path), path);
    }

    /// <summary>Validates index text. Throws only <see cref="SafetensorsFormatException"/> for any bytes.</summary>
    public static SafetensorsIndex Parse(ReadOnlySpan<byte> json, string path)
    {
        ReadOnlySpan<byte> bom = [0xEF, 0xBB, 0xBF];
        if (json.StartsWith(bom))
            json = json[bom.Length..]; // index files are plain JSON files that editors may have touched
        int badUtf8 = StrictJson.FindInvalidUtf8(json);
        if (badUtf8 >= 0)
            throw Fail(path, null, $"index is not valid UTF-8 (at byte {badUtf8})");
        string? syntax = StrictJson.FindSyntaxProblem(json);
        if (syntax is not null)
            throw Fail(path, null, "index is not valid JSON: " + syntax);

        using var doc = JsonDocument.Parse(json.ToArray(), new JsonDocumentOptions
        {
            AllowTrailingCommas = false,
            CommentHandling = JsonCommentHandling.Disallow,
            MaxDepth = StrictJson.MaxDepth + 1,
        });
        var root = doc.RootElement;
        if (root.ValueKind != JsonValueKind.Object)
            throw Fail(path, null, $"index must be a JSON object, found {StrictJson.Describe(root.ValueKind)}");
        JsonElement? weightMap = null;
        var keys = new HashSet<string>(StringComparer.Ordinal);
        foreach (var property in root.EnumerateObject())
        {
            if (!keys.Add(property.Name))
                throw Fail(path, null, $"duplicate key {StrictJson.Quote(property.Name)} in the index");
            if (property.Name == "weight_map")
                weightMap = property.Value;
            else if (property.Name == "metadata" && property.Value.ValueKind != JsonValueKind.Object)
                throw Fail(path, null, $"'metadata' must be a JSON object, found {StrictJson.Describe(property.Value.ValueKind)}");
        }
        if (weightMap is not { } map)
            throw Fail(path, null, "index has no 'weight_map'");
        if (map.ValueKind != JsonValueKind.Object)
            throw Fail(path, null, $"'weight_map' must be a JSON object mapping tensor names to shard files, found {StrictJson.Describe(map.ValueKind)}");

        var entries = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var entry in map.EnumerateObject())
        {
            string tensor = entry.Name;
            if (tensor.Length == 0)
                throw Fail(path, null, "weight_map has an empty tensor name");
            if (entries.ContainsKey(tensor))
                throw Fail(path, tensor, "appears twice in the weight_map");
            if (entry.Value.ValueKind != JsonValueKind.String)
                throw Fail(path, tensor, $"weight_map value must be a shard file name (a string), found {StrictJson.Describe(entry.Value.ValueKind)}");
            string shard = entry.Value.GetString()!;
            if (!IsPlainFileName(shard))
                throw Fail(path, tensor, $"shard file name {StrictJson.Quote(shard)} must be a plain file name in the index's directory");
            entries.Add(tensor, shard);
        }
        if (entries.Count == 0)
            throw Fail(path, null, "'weight_map' lists no tensors");
        var shards = entries.Values.Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToArray();
        return new SafetensorsIndex(path, entries.AsReadOnly(), shards);
    }

    /// <summary>
    /// A name with no directory part on any platform: not empty, not "." or "..", no separators
    /// ('/' or '\'), no drive colon, no NUL, not rooted.
    /// </summary>
    internal static bool IsPlainFileName(string name) =>
        name.Length > 0
        && name is not ("." or "..")
        && name.AsSpan().IndexOfAny(['/', '\\', ':', '\0']) < 0
        && !Path.IsPathRooted(name);

    private static SafetensorsFormatException Fail(string path, string? tensor, string problem) =>
        new(path, tensor, problem);
}
