namespace PeftNative.SafeTensors;

/// <summary>
/// A checkpoint presented as one set of tensors: a single .safetensors file, a
/// <c>*.safetensors.index.json</c> (sharded; its weight_map checked against the shards), or a
/// directory holding either (model.safetensors.index.json preferred, then model.safetensors,
/// then the only *.safetensors file). Every shard is opened (header only) and checked at open.
/// (Contract stub: implemented by the reader work.)
/// </summary>
public sealed class SafetensorsCollection : ITensorSource
{
    private SafetensorsCollection() => throw new NotImplementedException("contract stub");

    /// <summary>Opens a file, an index file or a directory.</summary>
    /// <exception cref="SafetensorsFormatException">A shard or the index breaks the format, or they disagree.</exception>
    /// <exception cref="FileNotFoundException">Nothing to open at that path.</exception>
    public static SafetensorsCollection Open(string path) => throw new NotImplementedException("contract stub");

    /// <summary>The files the tensors live in, in index order.</summary>
    public IReadOnlyList<string> Files => throw new NotImplementedException("contract stub");

    /// <inheritdoc />
    public string SourcePath => throw new NotImplementedException("contract stub");

    /// <inheritdoc />
    public IReadOnlyList<SafetensorsTensorInfo> Tensors => throw new NotImplementedException("contract stub");

    /// <inheritdoc />
    public IReadOnlyDictionary<string, string> Metadata => throw new NotImplementedException("contract stub");

    /// <inheritdoc />
    public bool Contains(string name) => throw new NotImplementedException("contract stub");

    /// <inheritdoc />
    public SafetensorsTensorInfo GetInfo(string name) => throw new NotImplementedException("contract stub");

    /// <inheritdoc />
    public Tensor GetTensor(string name) => throw new NotImplementedException("contract stub");

    /// <inheritdoc />
    public void Dispose() => throw new NotImplementedException("contract stub");
}
