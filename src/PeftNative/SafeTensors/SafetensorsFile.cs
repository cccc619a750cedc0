namespace PeftNative.SafeTensors;

/// <summary>
/// One safetensors file, memory-mapped read-only. Opening reads and validates only the header
/// (cost O(header), not O(data)); tensors are zero-copy views into the mapping.
/// (Contract stub: implemented by the reader work.)
/// </summary>
public sealed class SafetensorsFile : ITensorSource
{
    private SafetensorsFile() => throw new NotImplementedException("contract stub");

    /// <summary>Opens and validates a file.</summary>
    /// <exception cref="SafetensorsFormatException">The file breaks the format.</exception>
    /// <exception cref="FileNotFoundException">No such file.</exception>
    public static SafetensorsFile Open(string path) => throw new NotImplementedException("contract stub");

    /// <summary>The validated header.</summary>
    public SafetensorsHeader Header => throw new NotImplementedException("contract stub");

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
