using PeftNative.Backends;
using PeftNative.Models;
using PeftNative.SafeTensors;

namespace PeftNative.Merging;

/// <summary>
/// Writes the weights of the merged model into a directory through <see cref="SafetensorsWriter"/>'s
/// streaming entries: each tensor's bytes are produced by <see cref="TensorStreamer"/> when the
/// writer reaches it, so only one tensor is in flight. Shards follow the input (same file names,
/// same tensor-to-file assignment, the index under the input's index name) unless a shard size
/// is given, in which case the writer cuts <c>model-0000k-of-0000n.safetensors</c> shards and
/// writes <c>model.safetensors.index.json</c>.
/// </summary>
internal sealed class MergedModelWriter(HuggingFaceModelDirectory model, MergePlan plan, MergeOptions options, IKernelBackend backend,
    IProgress<MergeProgress>? progress, CancellationToken cancellationToken) : IDisposable
{
    private readonly Dictionary<string, MappedShard> _shards = new(StringComparer.Ordinal);
    private readonly TensorStreamer _streamer = new(backend, options.AllowNonFinite);
    private readonly long _totalBytes = model.Weights.Tensors.Sum(t => t.ByteLength);
    private int _done;
    private long _bytesDone;

    /// <summary>Tensor data bytes read from the model.</summary>
    public long BytesRead => _bytesDone;

    /// <summary>Non-finite values written, by tensor (only when allowed).</summary>
    public IReadOnlyDictionary<string, long> NonFiniteCounts => _streamer.NonFiniteCounts;

    /// <summary>Writes every tensor into <paramref name="directory"/>.</summary>
    public void Write(string directory)
    {
        var weights = model.Weights;
        var writeOptions = new SafetensorsWriteOptions { Durable = options.Durable, RemoveStaleFiles = false, MaxShardBytes = options.MaxShardBytes };
        if (options.MaxShardBytes is not null)
        {
            SafetensorsWriter.Write(Path.Combine(directory, "model.safetensors"), weights.Tensors.Select(Entry), weights.Metadata, writeOptions, cancellationToken);
            return;
        }
        var weightMap = new List<KeyValuePair<string, string>>();
        long total = 0;
        foreach (var group in weights.Tensors.GroupBy(t => t.FilePath, StringComparer.Ordinal))
        {
            string name = Path.GetFileName(group.Key);
            var result = SafetensorsWriter.Write(Path.Combine(directory, name), group.Select(Entry), weights.Metadata, writeOptions, cancellationToken);
            total += result.TotalDataBytes;
            weightMap.AddRange(group.Select(t => KeyValuePair.Create(t.Name, name)));
        }
        if (InputIndexName(model.DirectoryPath) is { } indexName)
        {
            using var files = new AtomicFileSet(directory, options.Durable);
            files.Add(Path.Combine(directory, indexName), SafetensorsHeaderJson.BuildIndex(total, weightMap));
            files.Commit();
        }
    }

    /// <inheritdoc />
    public void Dispose()
    {
        _streamer.Dispose();
        foreach (var s in _shards.Values)
            s.Dispose();
    }

    /// <summary>The index file the model was opened through (as <see cref="SafetensorsCollection.Open"/> chooses), or null for a single file.</summary>
    internal static string? InputIndexName(string directory)
    {
        const string preferred = "model.safetensors.index.json";
        if (File.Exists(Path.Combine(directory, preferred)))
            return preferred;
        if (File.Exists(Path.Combine(directory, "model.safetensors")))
            return null;
        string[] indexes = Directory.GetFiles(directory, "*.safetensors.index.json");
        return indexes.Length == 1 ? Path.GetFileName(indexes[0]) : null;
    }

    private SafetensorsEntry Entry(SafetensorsTensorInfo info)
    {
        DType outputType = options.OutputDType is { } d && info.DType.IsKernelFloat() ? d : info.DType;
        return SafetensorsEntry.FromWriter(info.Name, outputType, [.. info.Shape], (destination, token) =>
        {
            var shard = Shard(info.FilePath);
            if (plan.Edits.TryGetValue(info.Name, out var edit))
                _streamer.Apply(shard, info, edit, outputType, destination, token);
            else if (outputType != info.DType)
                _streamer.Convert(shard, info, outputType, destination, token);
            else
                TensorStreamer.Copy(shard, info, destination, token);
            _done++;
            _bytesDone += info.ByteLength;
            progress?.Report(new MergeProgress(info.Name, _done, model.Weights.Tensors.Count, _bytesDone, _totalBytes));
        });
    }

    private MappedShard Shard(string path)
    {
        if (!_shards.TryGetValue(path, out var shard))
            _shards.Add(path, shard = MappedShard.Open(path));
        return shard;
    }
}
