using PeftNative.SafeTensors;

namespace PeftNative.Tests.Adapters;

/// <summary>
/// An <see cref="ITensorSource"/> over tensors in memory, so adapter validation can be tested
/// with any layout without writing files. Owns its tensors; records whether it was disposed.
/// </summary>
internal sealed class InMemoryTensorSource : ITensorSource
{
    private readonly Dictionary<string, Tensor> _tensors = new(StringComparer.Ordinal);
    private readonly List<SafetensorsTensorInfo> _infos = [];

    public InMemoryTensorSource(string sourcePath = "/test/adapter_model.safetensors") => SourcePath = sourcePath;

    public string SourcePath { get; }

    public bool Disposed { get; private set; }

    public IReadOnlyList<SafetensorsTensorInfo> Tensors => _infos;

    public IReadOnlyDictionary<string, string> Metadata { get; } = new Dictionary<string, string> { ["format"] = "pt" };

    /// <summary>Adds a tensor filled with a deterministic pattern (seeded by the name).</summary>
    public InMemoryTensorSource Add(string name, DType dtype, params long[] shape)
    {
        var t = Tensor.Allocate(dtype, shape);
        var rng = new Random(StringComparer.Ordinal.GetHashCode(name) & 0x7fffffff);
        rng.NextBytes(t.AsBytes());
        if (dtype == DType.F32)
        {
            var span = t.AsSpan<float>();
            for (int i = 0; i < span.Length; i++)
                span[i] = (float)(rng.NextDouble() - 0.5);
        }
        long offset = _infos.Count == 0 ? 0 : _infos[^1].DataEnd;
        _infos.Add(new SafetensorsTensorInfo(name, dtype, shape, offset, offset + t.ByteLength, SourcePath));
        _tensors.Add(name, t);
        return this;
    }

    public bool Contains(string name) => _tensors.ContainsKey(name);

    public SafetensorsTensorInfo GetInfo(string name) =>
        _infos.FirstOrDefault(i => i.Name == name) ?? throw new KeyNotFoundException($"{SourcePath}: no tensor '{name}'");

    public Tensor GetTensor(string name)
    {
        ObjectDisposedException.ThrowIf(Disposed, this);
        var t = _tensors.TryGetValue(name, out var v) ? v : throw new KeyNotFoundException($"{SourcePath}: no tensor '{name}'");
        // A view, like the real reader: disposing it frees nothing.
        return Tensor.FromPointer(t.Pointer, t.DType, t.Shape.ToArray());
    }

    public void Dispose()
    {
        if (Disposed)
            return;
        Disposed = true;
        foreach (var t in _tensors.Values)
            t.Dispose();
    }
}
