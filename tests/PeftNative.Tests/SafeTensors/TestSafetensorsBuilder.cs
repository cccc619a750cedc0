using System.Buffers.Binary;
using System.Text.Json;

namespace PeftNative.Tests.SafeTensors;

/// <summary>
/// A tiny, independent safetensors byte builder for the reader tests (deliberately not the
/// library's writer, so a shared mistake cannot hide): tensors in the order added, packed,
/// header written with Utf8JsonWriter and padded with spaces to a multiple of 8.
/// </summary>
internal sealed class TestSafetensorsBuilder
{
    private readonly List<(string Name, string DType, long[] Shape, byte[] Data)> _tensors = [];
    private readonly Dictionary<string, string> _metadata = new(StringComparer.Ordinal);
    private readonly Random _rng;

    public TestSafetensorsBuilder(Random rng) => _rng = rng;

    /// <summary>Write header keys in reverse of data order (the reader must sort by offset).</summary>
    public bool ReverseHeaderOrder { get; set; }

    /// <summary>Bytes appended after the JSON instead of the space padding (null: pad with spaces to 8).</summary>
    public byte[]? Padding { get; set; }

    /// <summary>Adds a tensor with random non-zero data (or the given bytes).</summary>
    public TestSafetensorsBuilder Add(string name, DType dtype, long[] shape, byte[]? data = null) =>
        Add(name, dtype.SafetensorsName(), shape, data ?? NonZero(_rng, dtype.ByteLengthOf(shape.Aggregate(1L, (a, b) => a * b))));

    /// <summary>Adds a tensor with a dtype name as written (for names the enum does not have).</summary>
    public TestSafetensorsBuilder Add(string name, string dtypeName, long[] shape, byte[] data)
    {
        _tensors.Add((name, dtypeName, shape, data));
        return this;
    }

    public TestSafetensorsBuilder Meta(string key, string value)
    {
        _metadata[key] = value;
        return this;
    }

    /// <summary>The bytes given to (or drawn for) a tensor.</summary>
    public byte[] DataOf(string name) => _tensors.Single(t => t.Name == name).Data;

    public IEnumerable<string> Names => _tensors.Select(t => t.Name);

    public byte[] Build()
    {
        var offsets = new List<(long Begin, long End)>();
        long cursor = 0;
        foreach (var t in _tensors)
        {
            offsets.Add((cursor, cursor + t.Data.Length));
            cursor += t.Data.Length;
        }
        using var json = new MemoryStream();
        using (var w = new Utf8JsonWriter(json, new JsonWriterOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            w.WriteStartObject();
            if (_metadata.Count > 0)
            {
                w.WriteStartObject("__metadata__");
                foreach (var (k, v) in _metadata)
                    w.WriteString(k, v);
                w.WriteEndObject();
            }
            var order = Enumerable.Range(0, _tensors.Count);
            foreach (int i in ReverseHeaderOrder ? order.Reverse() : order)
            {
                var t = _tensors[i];
                w.WriteStartObject(t.Name);
                w.WriteString("dtype", t.DType);
                w.WriteStartArray("shape");
                foreach (long d in t.Shape)
                    w.WriteNumberValue(d);
                w.WriteEndArray();
                w.WriteStartArray("data_offsets");
                w.WriteNumberValue(offsets[i].Begin);
                w.WriteNumberValue(offsets[i].End);
                w.WriteEndArray();
                w.WriteEndObject();
            }
            w.WriteEndObject();
        }
        if (Padding is null)
        {
            while (json.Length % 8 != 0)
                json.WriteByte((byte)' ');
        }
        else
        {
            json.Write(Padding);
        }
        var file = new MemoryStream();
        Span<byte> prefix = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(prefix, (ulong)json.Length);
        file.Write(prefix);
        json.Position = 0;
        json.CopyTo(file);
        foreach (var t in _tensors)
            file.Write(t.Data);
        return file.ToArray();
    }

    public string WriteTo(string path)
    {
        File.WriteAllBytes(path, Build());
        return path;
    }

    /// <summary>Random bytes, none of them zero, so a reader returning zeros cannot pass.</summary>
    public static byte[] NonZero(Random rng, long length)
    {
        var bytes = new byte[length];
        for (int i = 0; i < bytes.Length; i++)
            bytes[i] = (byte)rng.Next(1, 256);
        return bytes;
    }
}
