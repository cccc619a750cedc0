using System.Buffers.Binary;
using System.Text;
using System.Text.Json;

namespace PeftNative.Tests.SafeTensors;

/// <summary>One tensor as the test's own parser read it from a header.</summary>
internal sealed record ParsedTensor(string Name, string DType, long[] Shape, long Begin, long End);

/// <summary>
/// A deliberately small, independent safetensors reader for the writer's tests (System.Text.Json,
/// no code shared with the library): prefix, header text, tensors in header order, metadata, data.
/// </summary>
internal sealed class ParsedSafetensors
{
    private ParsedSafetensors(byte[] bytes, ulong headerLength, string headerText, List<ParsedTensor> tensors, Dictionary<string, string>? metadata)
    {
        Bytes = bytes;
        HeaderLength = headerLength;
        HeaderText = headerText;
        Tensors = tensors;
        Metadata = metadata;
    }

    public byte[] Bytes { get; }

    /// <summary>The u64 little-endian prefix.</summary>
    public ulong HeaderLength { get; }

    /// <summary>The header bytes as text, padding included.</summary>
    public string HeaderText { get; }

    /// <summary>Tensors in the order the header lists them.</summary>
    public List<ParsedTensor> Tensors { get; }

    /// <summary>__metadata__, or null when the header has none.</summary>
    public Dictionary<string, string>? Metadata { get; }

    public long DataStart => 8 + (long)HeaderLength;

    public ReadOnlySpan<byte> Data(ParsedTensor t) => Bytes.AsSpan((int)(DataStart + t.Begin), (int)(t.End - t.Begin));

    public ParsedTensor this[string name] => Tensors.Single(t => t.Name == name);

    public static ParsedSafetensors ReadFile(string path) => Parse(File.ReadAllBytes(path));

    public static ParsedSafetensors Parse(byte[] bytes)
    {
        Assert.That(bytes.Length, Is.GreaterThanOrEqualTo(8), "file shorter than its 8-byte prefix");
        ulong n = BinaryPrimitives.ReadUInt64LittleEndian(bytes);
        Assert.That(8 + (long)n, Is.LessThanOrEqualTo(bytes.Length), "header length past the end of the file");
        string text = new UTF8Encoding(false, true).GetString(bytes, 8, (int)n);
        var tensors = new List<ParsedTensor>();
        Dictionary<string, string>? metadata = null;
        using (var doc = JsonDocument.Parse(text))
        {
            foreach (var p in doc.RootElement.EnumerateObject())
            {
                if (p.Name == "__metadata__")
                {
                    metadata = p.Value.EnumerateObject().ToDictionary(m => m.Name, m => m.Value.GetString()!);
                    continue;
                }
                var offsets = p.Value.GetProperty("data_offsets").EnumerateArray().Select(e => e.GetInt64()).ToArray();
                Assert.That(offsets, Has.Length.EqualTo(2), $"{p.Name}: data_offsets");
                tensors.Add(new ParsedTensor(p.Name, p.Value.GetProperty("dtype").GetString()!,
                    p.Value.GetProperty("shape").EnumerateArray().Select(e => e.GetInt64()).ToArray(), offsets[0], offsets[1]));
            }
        }
        return new ParsedSafetensors(bytes, n, text, tensors, metadata);
    }

    /// <summary>Checks the structural rules every file must meet: padding, contiguous offsets, file size.</summary>
    public void AssertWellFormed()
    {
        using (Assert.EnterMultipleScope())
        {
            Assert.That(HeaderLength % 8, Is.Zero, "header length must be a multiple of 8");
            Assert.That(HeaderText.TrimEnd(' ').Length, Is.GreaterThan(HeaderText.Length - 8), "at most 7 padding spaces");
            Assert.That(HeaderText.TrimEnd(' '), Does.EndWith("}"), "padding is spaces after the JSON");
            long expected = 0;
            foreach (var t in Tensors)
            {
                Assert.That(t.Begin, Is.EqualTo(expected), $"{t.Name} starts where the previous tensor ends");
                expected = t.End;
            }
            Assert.That(Bytes.LongLength, Is.EqualTo(DataStart + expected), "the data section ends at the last offset");
        }
    }
}

/// <summary>A fresh directory per test, deleted afterwards.</summary>
internal sealed class ScratchDirectory : IDisposable
{
    public ScratchDirectory() => Path = Directory.CreateTempSubdirectory("peftnative-writer-").FullName;

    public string Path { get; }

    public string File(string name) => System.IO.Path.Combine(Path, name);

    /// <summary>Every entry (hidden temporaries included), by name, sorted.</summary>
    public string[] Listing() => Directory.EnumerateFileSystemEntries(Path).Select(System.IO.Path.GetFileName).Order(StringComparer.Ordinal).ToArray()!;

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
