namespace PeftNative.SafeTensors;

/// <summary>
/// One safetensors file, memory-mapped read-only. Opening reads and validates only the header
/// (cost O(header), not O(data)); tensors are zero-copy views into the mapping.
/// </summary>
/// <remarks>
/// Views returned by <see cref="GetTensor"/> point into the mapping and become invalid when this
/// file is disposed (using one afterwards is a use-after-unmap the view cannot detect); the header
/// facts (<see cref="Tensors"/>, <see cref="GetInfo"/>, <see cref="Metadata"/>) stay readable.
/// Reading is thread-safe; disposing while another thread reads is not.
/// </remarks>
public sealed class SafetensorsFile : ITensorSource
{
    private readonly ReadOnlyFileMapping _mapping;
    private readonly Dictionary<string, SafetensorsTensorInfo> _byName;

    private SafetensorsFile(string path, SafetensorsHeader header, ReadOnlyFileMapping mapping)
    {
        SourcePath = path;
        Header = header;
        _mapping = mapping;
        _byName = new Dictionary<string, SafetensorsTensorInfo>(header.Tensors.Count, StringComparer.Ordinal);
        foreach (var t in header.Tensors)
            _byName.Add(t.Name, t); // names are unique: the header parser refuses duplicates
    }

    /// <summary>Opens and validates a file.</summary>
    /// <param name="path">The file; it is opened by its full path, which messages and <see cref="SafetensorsTensorInfo.FilePath"/> use.</param>
    /// <exception cref="SafetensorsFormatException">The file breaks the format.</exception>
    /// <exception cref="FileNotFoundException">No such file (or the path is a directory).</exception>
    /// <exception cref="IOException">The file cannot be read or mapped.</exception>
    public static SafetensorsFile Open(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        string full = Path.GetFullPath(path);
        if (Directory.Exists(full))
            throw new FileNotFoundException($"{full} is a directory, not a safetensors file (SafetensorsCollection.Open takes directories)", full);
        if (!File.Exists(full))
            throw new FileNotFoundException($"no such file: {full}", full);
        var stream = new FileStream(full, FileMode.Open, FileAccess.Read, FileShare.Read | FileShare.Delete, bufferSize: 0, FileOptions.RandomAccess);
        try
        {
            var header = ReadHeader(stream, full);
            var mapping = ReadOnlyFileMapping.Create(stream);
            if (mapping.Length != header.FileLength)
            {
                mapping.Dispose();
                throw new SafetensorsFormatException(full, null, $"file changed length while being opened ({header.FileLength} -> {mapping.Length} bytes)");
            }
            return new SafetensorsFile(full, header, mapping);
        }
        catch
        {
            stream.Dispose(); // a no-op once the mapping owns and has closed it
            throw;
        }
    }

    /// <summary>The validated header.</summary>
    public SafetensorsHeader Header { get; }

    /// <inheritdoc />
    public string SourcePath { get; }

    /// <inheritdoc />
    public IReadOnlyList<SafetensorsTensorInfo> Tensors => Header.Tensors;

    /// <inheritdoc />
    public IReadOnlyDictionary<string, string> Metadata => Header.Metadata;

    /// <inheritdoc />
    public bool Contains(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        return _byName.ContainsKey(name);
    }

    /// <inheritdoc />
    public SafetensorsTensorInfo GetInfo(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        if (_byName.TryGetValue(name, out var info))
            return info;
        throw new KeyNotFoundException($"{SourcePath}: no tensor {StrictJson.Quote(name)} (the file holds {_byName.Count} tensors)");
    }

    /// <inheritdoc />
    /// <exception cref="ObjectDisposedException">The file was disposed.</exception>
    public Tensor GetTensor(string name)
    {
        var info = GetInfo(name);
        if (_mapping.IsDisposed)
            throw new ObjectDisposedException(SourcePath, $"{SourcePath} was disposed: it is unmapped and its tensor views are invalid");
        nint p = _mapping.AddressOf(Header.DataOffset + info.DataBegin);
        return Tensor.FromPointer(p, info.DType, [.. info.Shape]);
    }

    /// <summary>Unmaps the file. Views from <see cref="GetTensor"/> are invalid afterwards.</summary>
    public void Dispose() => _mapping.Dispose();

    /// <summary>
    /// Reads the 8-byte prefix, then exactly the header it declares (at most
    /// <see cref="SafetensorsHeader.MaxHeaderBytes"/>), never a data byte, and validates it.
    /// </summary>
    private static SafetensorsHeader ReadHeader(FileStream stream, string path)
    {
        long length = stream.Length;
        Span<byte> prefix = stackalloc byte[SafetensorsHeader.PrefixBytes];
        int got = ReadFully(stream, prefix);
        long headerLength = SafetensorsHeader.ReadHeaderLength(prefix[..got], length, path);
        byte[] start = new byte[SafetensorsHeader.PrefixBytes + headerLength];
        if (ReadFully(stream, start) != start.Length)
            throw new SafetensorsFormatException(path, null, "file became shorter while its header was read");
        return SafetensorsHeader.Parse(start, length, path);
    }

    private static int ReadFully(FileStream stream, Span<byte> buffer)
    {
        int total = 0;
        while (total < buffer.Length)
        {
            int n = RandomAccess.Read(stream.SafeFileHandle, buffer[total..], total);
            if (n == 0)
                break;
            total += n;
        }
        return total;
    }
}
