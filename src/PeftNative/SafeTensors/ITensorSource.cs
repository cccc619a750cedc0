namespace PeftNative.SafeTensors;

/// <summary>
/// A read-only set of named tensors backed by memory-mapped files: one safetensors file or a
/// sharded checkpoint presented as one collection. Tensors are zero-copy views that stay valid
/// until the source is disposed.
/// </summary>
public interface ITensorSource : IDisposable
{
    /// <summary>What was opened (a file, an index file or a directory), for messages.</summary>
    string SourcePath { get; }

    /// <summary>Every tensor, in data-offset order within each file, files in index order.</summary>
    IReadOnlyList<SafetensorsTensorInfo> Tensors { get; }

    /// <summary>The <c>__metadata__</c> string map (empty when absent; for shards, the first shard's).</summary>
    IReadOnlyDictionary<string, string> Metadata { get; }

    /// <summary>True when a tensor of that name exists.</summary>
    bool Contains(string name);

    /// <summary>The header entry of a tensor.</summary>
    /// <exception cref="KeyNotFoundException">No such tensor; the message names the source and the tensor.</exception>
    SafetensorsTensorInfo GetInfo(string name);

    /// <summary>A zero-copy view of a tensor's data (valid until this source is disposed; disposing the view frees nothing).</summary>
    /// <exception cref="KeyNotFoundException">No such tensor; the message names the source and the tensor.</exception>
    Tensor GetTensor(string name);
}
