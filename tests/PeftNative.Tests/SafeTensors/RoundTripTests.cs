using PeftNative.SafeTensors;

namespace PeftNative.Tests.SafeTensors;

/// <summary>
/// The reader and the writer together: read -> write -> read is bit-exact for every dtype, what the
/// writer produces passes the reader's strict rules, and re-writing files made by the reference
/// implementation (the fixtures) reproduces them byte for byte.
/// </summary>
public class RoundTripTests
{
    private static byte[] NonZero(Random rng, long length)
    {
        var b = new byte[length];
        rng.NextBytes(b);
        for (int i = 0; i < b.Length; i++)
            b[i] |= (byte)(i % 2 == 0 ? 1 : 0); // never an all-zero tensor
        return b;
    }

    /// <summary>One tensor per dtype, odd shapes (sub-byte dtypes sized to end on a byte), a scalar and an empty tensor.</summary>
    private static List<(string Name, DType DType, long[] Shape, byte[] Data)> EveryDType(Random rng)
    {
        var list = new List<(string, DType, long[], byte[])>();
        foreach (var d in Enum.GetValues<DType>())
        {
            long[] shape = d.BitsOf() switch { 4 => [3, 6], 6 => [4, 5], _ => [3, 7] };
            list.Add(($"t.{d}", d, shape, NonZero(rng, d.ByteLengthOf(shape[0] * shape[1]))));
        }
        list.Add(("scalar", DType.F64, [], NonZero(rng, 8)));
        list.Add(("empty", DType.BF16, [0, 5], []));
        return list;
    }

    [Test]
    public void EveryDType_ReadWriteRead_IsBitExact()
    {
        using var dir = new TempDir();
        var rng = new Random(20261127);
        var tensors = EveryDType(rng);
        var metadata = new Dictionary<string, string> { ["format"] = "pt", ["note"] = "quote \" and ünïcode" };
        string first = dir.File("first.safetensors"), second = dir.File("second.safetensors");
        SafetensorsWriter.Write(first, tensors.Select(t => SafetensorsEntry.FromBytes(t.Name, t.DType, t.Shape, t.Data)), metadata);

        using (var read = SafetensorsFile.Open(first))
        {
            using (Assert.EnterMultipleScope())
            {
                Assert.That(read.Metadata, Is.EquivalentTo(metadata));
                Assert.That(read.Tensors, Has.Count.EqualTo(tensors.Count));
                foreach (var t in tensors)
                {
                    var info = read.GetInfo(t.Name);
                    Assert.That((info.DType, info.Shape), Is.EqualTo((t.DType, (IReadOnlyList<long>)t.Shape)).Using(new InfoComparer()), t.Name);
                    using var view = read.GetTensor(t.Name);
                    Assert.That(view.ByteLength == 0 ? [] : view.AsBytes().ToArray(), Is.EqualTo(t.Data), t.Name);
                }
            }
            // write again straight from the zero-copy views
            SafetensorsWriter.Write(second, read.Tensors.Select(i => SafetensorsEntry.FromTensor(i.Name, read.GetTensor(i.Name))), read.Metadata);
        }
        Assert.That(File.ReadAllBytes(second), Is.EqualTo(File.ReadAllBytes(first)));
    }

    [Test]
    public void Sharded_ReadWriteRead_IsBitExact()
    {
        using var dir = new TempDir();
        var rng = new Random(7);
        var tensors = EveryDType(rng);
        var result = SafetensorsWriter.Write(dir.File("model.safetensors"), tensors.Select(t => SafetensorsEntry.FromBytes(t.Name, t.DType, t.Shape, t.Data)),
            new Dictionary<string, string> { ["format"] = "pt" }, new SafetensorsWriteOptions { MaxShardBytes = 200 });
        Assert.That(result.IndexFile, Is.Not.Null);
        using var read = SafetensorsCollection.Open(result.IndexFile!);
        using (Assert.EnterMultipleScope())
        {
            Assert.That(read.Files, Has.Count.EqualTo(result.Files.Count));
            foreach (var t in tensors)
            {
                using var view = read.GetTensor(t.Name);
                Assert.That(view.ByteLength == 0 ? [] : view.AsBytes().ToArray(), Is.EqualTo(t.Data), t.Name);
            }
        }
    }

    /// <summary>
    /// The real adapters were saved by PEFT through Python's safetensors (the reference
    /// implementation). Reading one and writing its tensors back must give the same bytes: same
    /// order, header and padding. (The reference-models fixtures come from another writer that puts
    /// __metadata__ last, so they are read-tested only.)
    /// </summary>
    [Test]
    public void ReferenceWrittenFixtures_AreReproducedByteForByte()
    {
        string root = Fixtures.Require("real-adapters");
        var files = Directory.EnumerateFiles(root, "*.safetensors", SearchOption.AllDirectories).Order(StringComparer.Ordinal).ToList();
        Assert.That(files, Has.Count.EqualTo(3));
        using var dir = new TempDir();
        var mismatched = new List<string>();
        foreach (string path in files)
        {
            string copy = dir.File("copy.safetensors");
            using (var read = SafetensorsFile.Open(path))
            {
                IReadOnlyDictionary<string, string>? metadata = HasMetadataKey(path) ? read.Metadata : null;
                SafetensorsWriter.Write(copy, read.Tensors.Select(i => SafetensorsEntry.FromTensor(i.Name, read.GetTensor(i.Name))), metadata);
            }
            if (!File.ReadAllBytes(copy).AsSpan().SequenceEqual(File.ReadAllBytes(path)))
                mismatched.Add(Path.GetRelativePath(root, path));
        }
        Assert.That(mismatched, Is.Empty, "files whose re-written bytes differ from the reference implementation's");
    }

    private static bool HasMetadataKey(string path)
    {
        using var s = File.OpenRead(path);
        var prefix = new byte[8];
        s.ReadExactly(prefix);
        var header = new byte[Math.Min(BitConverter.ToInt64(prefix), 1 << 20)];
        s.ReadExactly(header);
        return System.Text.Encoding.UTF8.GetString(header).Contains("\"__metadata__\"", StringComparison.Ordinal);
    }

    private sealed class InfoComparer : IEqualityComparer<(DType, IReadOnlyList<long>)>
    {
        public bool Equals((DType, IReadOnlyList<long>) x, (DType, IReadOnlyList<long>) y) => x.Item1 == y.Item1 && x.Item2.SequenceEqual(y.Item2);

        public int GetHashCode((DType, IReadOnlyList<long>) obj) => obj.Item1.GetHashCode();
    }
}
