using System.Buffers.Binary;
using System.Text.Json;
using PeftNative.SafeTensors;

namespace PeftNative.Tests.SafeTensors;

/// <summary>
/// Reading valid safetensors files: every dtype, scalars, empty tensors, metadata, odd names and
/// padding, written by an independent in-test builder and read back byte for byte; the committed
/// valid corpus; the real fixture files against an independent parse; zero-copy views, header-only
/// open and lifetime.
/// </summary>
[TestFixture]
public class ReaderTests
{
    private static readonly DType[] AllDTypes = Enum.GetValues<DType>();

    private TempDir _temp = null!;

    [SetUp]
    public void CreateTemp() => _temp = new TempDir();

    [TearDown]
    public void DeleteTemp() => _temp.Dispose();

    private static long[] ShapeFor(DType dtype) => dtype switch
    {
        DType.F4 => [2, 3],       // 24 bits: sub-byte counts must end on a byte boundary
        DType.F6_E2M3 => [4],
        DType.F6_E3M2 => [2, 4],
        _ => [3, 5],
    };

    [TestCaseSource(nameof(AllDTypes))]
    public void EveryDType_ReadsBackExactly(DType dtype)
    {
        var rng = RandomTensors.For("reader-dtype-" + dtype);
        var b = new TestSafetensorsBuilder(rng)
            .Add("before", DType.U8, [3])
            .Add("t", dtype, ShapeFor(dtype))
            .Add("after", DType.I16, [2]);
        string path = b.WriteTo(_temp.File($"{dtype}.safetensors"));

        using var file = SafetensorsFile.Open(path);
        var info = file.GetInfo("t");
        long count = ShapeFor(dtype).Aggregate(1L, (x, y) => x * y);
        using (Assert.EnterMultipleScope())
        {
            Assert.That(info.DType, Is.EqualTo(dtype));
            Assert.That(info.Shape, Is.EqualTo(ShapeFor(dtype)));
            Assert.That(info.ElementCount, Is.EqualTo(count));
            Assert.That(info.ByteLength, Is.EqualTo(dtype.ByteLengthOf(count)));
            Assert.That(info.DataBegin, Is.EqualTo(3));
            Assert.That(info.FilePath, Is.EqualTo(path));
        }
        using var t = file.GetTensor("t");
        Assert.That(t.DType, Is.EqualTo(dtype));
        Assert.That(t.Shape.ToArray(), Is.EqualTo(ShapeFor(dtype)));
        Assert.That(t.AsBytes().ToArray(), Is.EqualTo(b.DataOf("t")), $"{dtype} bytes");
        using var before = file.GetTensor("before");
        using var after = file.GetTensor("after");
        Assert.That(before.AsBytes().ToArray(), Is.EqualTo(b.DataOf("before")));
        Assert.That(after.AsBytes().ToArray(), Is.EqualTo(b.DataOf("after")));
    }

    [Test]
    public void AllDTypesInOneFile_HeaderOrderUnlikeDataOrder_AreSortedByOffset()
    {
        var b = new TestSafetensorsBuilder(RandomTensors.For("reader-all-dtypes")) { ReverseHeaderOrder = true };
        foreach (var d in AllDTypes)
            b.Add("t_" + d.SafetensorsName(), d, ShapeFor(d));
        b.Meta("format", "pt");
        using var file = SafetensorsFile.Open(b.WriteTo(_temp.File("all.safetensors")));

        Assert.That(file.Tensors.Select(t => t.Name), Is.EqualTo(b.Names), "data-offset order, not header order");
        Assert.That(file.Tensors.Select(t => t.DataBegin), Is.Ordered.Ascending);
        foreach (var d in AllDTypes)
        {
            using var t = file.GetTensor("t_" + d.SafetensorsName());
            Assert.That(t.AsBytes().ToArray(), Is.EqualTo(b.DataOf("t_" + d.SafetensorsName())), d.ToString());
        }
        Assert.That(file.Metadata, Is.EqualTo(new Dictionary<string, string> { ["format"] = "pt" }));
    }

    [Test]
    public void Scalars_HaveRankZeroAndOneElement([Values(DType.F32, DType.BF16, DType.I64, DType.Bool, DType.F8_E4M3, DType.C64)] DType dtype)
    {
        var b = new TestSafetensorsBuilder(RandomTensors.For("reader-scalar-" + dtype)).Add("s", dtype, []);
        using var file = SafetensorsFile.Open(b.WriteTo(_temp.File("s.safetensors")));
        Assert.That(file.GetInfo("s").Shape, Is.Empty);
        Assert.That(file.GetInfo("s").ShapeText, Is.EqualTo("scalar"));
        using var t = file.GetTensor("s");
        Assert.That(t.Rank, Is.Zero);
        Assert.That(t.ElementCount, Is.EqualTo(1));
        Assert.That(t.AsBytes().ToArray(), Is.EqualTo(b.DataOf("s")));
    }

    [Test]
    public void ZeroSizeDimensions_AtStartMiddleAndEnd()
    {
        var b = new TestSafetensorsBuilder(RandomTensors.For("reader-zero-size"))
            .Add("e0", DType.F32, [0])
            .Add("a", DType.F32, [2, 3])
            .Add("e1", DType.BF16, [3, 0])
            .Add("e2", DType.F4, [0, 5])
            .Add("b", DType.U8, [7])
            .Add("e3", DType.I64, [4, 0, 2]);
        using var file = SafetensorsFile.Open(b.WriteTo(_temp.File("z.safetensors")));
        Assert.That(file.Tensors, Has.Count.EqualTo(6));
        foreach (string name in new[] { "e0", "e1", "e2", "e3" })
        {
            using var t = file.GetTensor(name);
            Assert.That(t.ElementCount, Is.Zero, name);
            Assert.That(t.ByteLength, Is.Zero, name);
            Assert.That(t.AsBytes().Length, Is.Zero, name);
            Assert.That(file.GetInfo(name).ByteLength, Is.Zero);
        }
        using var a = file.GetTensor("a");
        using var bt = file.GetTensor("b");
        Assert.That(a.AsBytes().ToArray(), Is.EqualTo(b.DataOf("a")));
        Assert.That(bt.AsBytes().ToArray(), Is.EqualTo(b.DataOf("b")));
        Assert.That(file.GetInfo("e3").DataBegin, Is.EqualTo(file.Header.DataLength), "the last empty tensor sits at the end of the data");
    }

    [Test]
    public void EmptyDataSection_OnlyEmptyTensors_OrNone()
    {
        var onlyEmpty = new TestSafetensorsBuilder(RandomTensors.For("reader-only-empty")).Add("e", DType.F16, [0, 4]).Add("f", DType.U8, [0]);
        using (var file = SafetensorsFile.Open(onlyEmpty.WriteTo(_temp.File("only-empty.safetensors"))))
        {
            Assert.That(file.Header.DataLength, Is.Zero);
            using var e = file.GetTensor("e");
            Assert.That(e.ByteLength, Is.Zero);
            Assert.That(e.Shape.ToArray(), Is.EqualTo(new long[] { 0, 4 }));
        }
        var none = new TestSafetensorsBuilder(RandomTensors.For("reader-none"));
        using (var file = SafetensorsFile.Open(none.WriteTo(_temp.File("none.safetensors"))))
        {
            Assert.That(file.Tensors, Is.Empty);
            Assert.That(file.Metadata, Is.Empty);
            Assert.That(file.Contains("x"), Is.False);
        }
        var metaOnly = new TestSafetensorsBuilder(RandomTensors.For("reader-meta-only")).Meta("format", "pt");
        using (var file = SafetensorsFile.Open(metaOnly.WriteTo(_temp.File("meta-only.safetensors"))))
        {
            Assert.That(file.Tensors, Is.Empty);
            Assert.That(file.Metadata["format"], Is.EqualTo("pt"));
        }
    }

    [Test]
    public void Metadata_AndNames_WithEscapesAndUnicode()
    {
        string[] names = ["model.layers.0.q_proj.weight", "ünï/cødé ✓", "quote\"back\\slash", "tab\tnl\n", "emoji 🙂", "__metadata"];
        var b = new TestSafetensorsBuilder(RandomTensors.For("reader-names"))
            .Meta("format", "pt").Meta("ключ", "значение \"q\" \\ ✓").Meta("empty", "");
        foreach (string n in names)
            b.Add(n, DType.F32, [2]);
        using var file = SafetensorsFile.Open(b.WriteTo(_temp.File("names.safetensors")));
        Assert.That(file.Tensors.Select(t => t.Name), Is.EqualTo(names));
        foreach (string n in names)
        {
            using var t = file.GetTensor(n);
            Assert.That(t.AsBytes().ToArray(), Is.EqualTo(b.DataOf(n)), n);
        }
        Assert.That(file.Metadata, Is.EquivalentTo(new Dictionary<string, string>
        {
            ["format"] = "pt", ["ключ"] = "значение \"q\" \\ ✓", ["empty"] = "",
        }));
    }

    [TestCase("")]                 // no padding: data starts at an odd offset
    [TestCase(" ")]
    [TestCase("        ")]
    [TestCase(" \n\t\r ")]         // any JSON whitespace, as serde_json allows
    public void HeaderPadding_TrailingWhitespaceIsAccepted(string padding)
    {
        var b = new TestSafetensorsBuilder(RandomTensors.For("reader-pad")) { Padding = System.Text.Encoding.ASCII.GetBytes(padding) }
            .Add("u", DType.U8, [3]).Add("f", DType.F32, [5]);
        using var file = SafetensorsFile.Open(b.WriteTo(_temp.File("pad.safetensors")));
        using var f = file.GetTensor("f");
        Assert.That(f.AsBytes().ToArray(), Is.EqualTo(b.DataOf("f")));
    }

    [Test]
    public void Views_AreZeroCopy_IntoTheMapping()
    {
        var b = new TestSafetensorsBuilder(RandomTensors.For("reader-zero-copy"))
            .Add("a", DType.F32, [4, 4]).Add("b", DType.BF16, [3]).Add("c", DType.U8, [5]);
        using var file = SafetensorsFile.Open(b.WriteTo(_temp.File("zc.safetensors")));
        using var a1 = file.GetTensor("a");
        using var a2 = file.GetTensor("a");
        using var bt = file.GetTensor("b");
        using var c = file.GetTensor("c");
        Assert.That(a2.Pointer, Is.EqualTo(a1.Pointer), "two views of one tensor share its bytes");
        Assert.That(bt.Pointer - a1.Pointer, Is.EqualTo((nint)(file.GetInfo("b").DataBegin - file.GetInfo("a").DataBegin)), "views keep the file's layout");
        Assert.That(c.Pointer - a1.Pointer, Is.EqualTo((nint)(file.GetInfo("c").DataBegin - file.GetInfo("a").DataBegin)));
        // The view is the file as mapped: the bytes before the first tensor are the header's last bytes.
        unsafe
        {
            byte* header = (byte*)a1.Pointer - file.Header.HeaderLength;
            Assert.That(header[0], Is.EqualTo((byte)'{'), "the byte HeaderLength before the data is the header's '{'");
        }
        a1.Dispose();
        Assert.That(a2.AsBytes().ToArray(), Is.EqualTo(b.DataOf("a")), "disposing a view frees nothing");
    }

    [Test]
    public void Dispose_InvalidatesViews_GetTensorThrows_HeaderFactsRemain()
    {
        var b = new TestSafetensorsBuilder(RandomTensors.For("reader-dispose")).Add("a", DType.F16, [8]);
        var file = SafetensorsFile.Open(b.WriteTo(_temp.File("d.safetensors")));
        using (var t = file.GetTensor("a"))
            Assert.That(t.AsBytes().ToArray(), Is.EqualTo(b.DataOf("a")));
        file.Dispose();
        var e = Assert.Throws<ObjectDisposedException>(() => file.GetTensor("a"));
        Assert.That(e!.Message, Does.Contain(file.SourcePath));
        Assert.DoesNotThrow(file.Dispose, "Dispose is idempotent");
        Assert.That(file.GetInfo("a").ByteLength, Is.EqualTo(16));
        Assert.Throws<KeyNotFoundException>(() => file.GetTensor("missing"));
    }

    [Test]
    public void MissingTensor_KeyNotFound_NamesSourceAndTensor()
    {
        string path = new TestSafetensorsBuilder(RandomTensors.For("reader-missing")).Add("a", DType.F32, [1]).WriteTo(_temp.File("m.safetensors"));
        using var file = SafetensorsFile.Open(path);
        var e1 = Assert.Throws<KeyNotFoundException>(() => file.GetTensor("lm_head.weight"));
        var e2 = Assert.Throws<KeyNotFoundException>(() => file.GetInfo("lm_head.weight"));
        Assert.That(file.Contains("lm_head.weight"), Is.False);
        Assert.That(file.Contains("a"), Is.True);
        foreach (var e in new[] { e1!, e2! })
            Assert.That(e.Message, Does.Contain(path).And.Contain("'lm_head.weight'"));
        using var collection = SafetensorsCollection.Open(path);
        var e3 = Assert.Throws<KeyNotFoundException>(() => collection.GetTensor("lm_head.weight"));
        Assert.That(e3!.Message, Does.Contain(path).And.Contain("'lm_head.weight'"));
    }

    [Test]
    public void Open_MissingFileOrDirectory_FileNotFound()
    {
        string missing = _temp.File("nope.safetensors");
        Assert.That(Assert.Throws<FileNotFoundException>(() => SafetensorsFile.Open(missing))!.Message, Does.Contain(missing));
        Assert.Throws<FileNotFoundException>(() => SafetensorsFile.Open(_temp.Path), "a directory is not a file");
        Assert.Throws<FileNotFoundException>(() => SafetensorsCollection.Open(missing));
        Assert.Throws<ArgumentNullException>(() => SafetensorsFile.Open(null!));
    }

    [Test]
    public void OpeningReadsOnlyTheHeader_SparseFourGigabyteFile()
    {
        // A valid header for one 4 GiB tensor, the data left as a hole: SetLength makes a sparse
        // file on Linux file systems, so this test costs nothing unless the reader reads the data.
        const long dataBytes = 4L << 30;
        var header = System.Text.Encoding.UTF8.GetBytes(
            $"{{\"big\":{{\"dtype\":\"U8\",\"shape\":[{dataBytes}],\"data_offsets\":[0,{dataBytes}]}}}}   ");
        string path = _temp.File("sparse.safetensors");
        using (var fs = new FileStream(path, FileMode.CreateNew, FileAccess.Write))
        {
            Span<byte> prefix = stackalloc byte[8];
            BinaryPrimitives.WriteUInt64LittleEndian(prefix, (ulong)header.Length);
            fs.Write(prefix);
            fs.Write(header);
            try
            {
                fs.SetLength(8 + header.Length + dataBytes);
            }
            catch (IOException e)
            {
                Assert.Ignore("cannot create a 4 GiB sparse file here: " + e.Message);
            }
        }
        using var file = SafetensorsFile.Open(path);
        var info = file.GetInfo("big");
        Assert.That(info.ByteLength, Is.EqualTo(dataBytes));
        using var t = file.GetTensor("big");
        Assert.That(t.ByteLength, Is.EqualTo(dataBytes));
        unsafe
        {
            byte* p = (byte*)t.Pointer;
            Assert.That(p[0] + p[dataBytes - 1], Is.Zero, "a hole reads as zeros (two pages touched)");
        }
    }

    // ---- the committed valid corpus ------------------------------------------------------------

    private static IEnumerable<string> ValidCorpusEntries()
    {
        using var doc = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(Corpus.Valid, "EXPECTED.json")));
        return doc.RootElement.EnumerateObject().Select(p => p.Name).ToArray();
    }

    [TestCaseSource(nameof(ValidCorpusEntries))]
    public void ValidCorpus_OpensAndReadsBack(string entry)
    {
        using var doc = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(Corpus.Valid, "EXPECTED.json")));
        var expected = doc.RootElement.GetProperty(entry);
        string path = Path.Combine(Corpus.Valid, entry);
        var sources = new List<ITensorSource> { SafetensorsCollection.Open(path) };
        if (File.Exists(path))
        {
            sources.Add(SafetensorsFile.Open(path));
            var header = SafetensorsHeader.Parse(File.ReadAllBytes(path), new FileInfo(path).Length, path);
            Assert.That(header.Tensors.Select(t => t.Name), Is.EqualTo(sources[0].Tensors.Select(t => t.Name)));
        }
        try
        {
            foreach (var source in sources)
                CheckAgainstExpected(source, expected, entry);
        }
        finally
        {
            foreach (var s in sources)
                s.Dispose();
        }
    }

    private static void CheckAgainstExpected(ITensorSource source, JsonElement expected, string entry)
    {
        var metadata = expected.GetProperty("metadata").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetString()!);
        Assert.That(source.Metadata, Is.EquivalentTo(metadata), $"{entry} metadata");
        var tensors = expected.GetProperty("tensors");
        Assert.That(source.Tensors.Select(t => t.Name), Is.EquivalentTo(tensors.EnumerateObject().Select(p => p.Name)), entry);
        foreach (var p in tensors.EnumerateObject())
        {
            var info = source.GetInfo(p.Name);
            string context = $"{entry}: {p.Name}";
            Assert.That(info.DType.SafetensorsName(), Is.EqualTo(p.Value.GetProperty("dtype").GetString()), context);
            Assert.That(info.Shape, Is.EqualTo(p.Value.GetProperty("shape").EnumerateArray().Select(d => d.GetInt64())), context);
            if (p.Value.TryGetProperty("file", out var shardFile))
                Assert.That(Path.GetFileName(info.FilePath), Is.EqualTo(shardFile.GetString()), context);
            using var t = source.GetTensor(p.Name);
            Assert.That(Convert.ToHexStringLower(t.AsBytes()), Is.EqualTo(p.Value.GetProperty("hex").GetString()), context);
        }
    }

    // ---- the real files under the shared fixtures ------------------------------------------------

    private static string[] FixtureFiles() =>
        [.. new[] { Fixtures.Require("real-adapters"), Fixtures.Require("reference-models") }
            .SelectMany(d => Directory.EnumerateFiles(d, "*.safetensors", SearchOption.AllDirectories))
            .Order(StringComparer.Ordinal)];

    [Test]
    public void Fixtures_EveryFileMatchesAnIndependentParse()
    {
        string[] files = FixtureFiles();
        Assert.That(files, Has.Length.GreaterThanOrEqualTo(40), "the shared fixtures hold dozens of safetensors files");
        foreach (string path in files)
        {
            byte[] raw = File.ReadAllBytes(path);
            long n = (long)BinaryPrimitives.ReadUInt64LittleEndian(raw);
            using var doc = JsonDocument.Parse(raw.AsMemory(8, (int)n));
            var entries = doc.RootElement.EnumerateObject().Where(p => p.Name != "__metadata__").ToArray();
            using var file = SafetensorsFile.Open(path);
            Assert.That(file.Tensors, Has.Count.EqualTo(entries.Length), path);
            Assert.That(file.Header.HeaderLength, Is.EqualTo(n), path);
            foreach (var e in entries)
            {
                var info = file.GetInfo(e.Name);
                var offsets = e.Value.GetProperty("data_offsets").EnumerateArray().Select(x => x.GetInt64()).ToArray();
                Assert.That(info.DType.SafetensorsName(), Is.EqualTo(e.Value.GetProperty("dtype").GetString()), $"{path}: {e.Name}");
                Assert.That(info.Shape, Is.EqualTo(e.Value.GetProperty("shape").EnumerateArray().Select(x => x.GetInt64())), $"{path}: {e.Name}");
                Assert.That((info.DataBegin, info.DataEnd), Is.EqualTo((offsets[0], offsets[1])), $"{path}: {e.Name}");
                using var t = file.GetTensor(e.Name);
                Assert.That(t.AsBytes().SequenceEqual(raw.AsSpan((int)(8 + n + offsets[0]), (int)(offsets[1] - offsets[0]))), Is.True,
                    $"{path}: {e.Name} bytes differ from the file at 8 + {n} + {offsets[0]}");
            }
            if (doc.RootElement.TryGetProperty("__metadata__", out var meta))
                Assert.That(file.Metadata, Is.EquivalentTo(meta.EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetString()!)), path);
        }
    }

    [Test]
    public void Fixtures_Gpt2TigrinyaLora_Has36LoraPairs()
    {
        string path = Path.Combine(Fixtures.RealAdapter("gpt2-tigrinya-lora"), "adapter_model.safetensors");
        using var source = SafetensorsCollection.Open(Path.GetDirectoryName(path)!);
        Assert.That(source.Files, Is.EqualTo(new[] { path }), "the only .safetensors file in the adapter directory");
        Assert.That(source.Tensors, Has.Count.EqualTo(72));
        Assert.That(source.Tensors.Count(t => t.Name.EndsWith(".lora_A.weight", StringComparison.Ordinal)), Is.EqualTo(36));
        Assert.That(source.Tensors.Count(t => t.Name.EndsWith(".lora_B.weight", StringComparison.Ordinal)), Is.EqualTo(36));
        Assert.That(source.Tensors.Select(t => t.DType).Distinct(), Is.EqualTo(new[] { DType.F32 }));
        Assert.That(source.Metadata["format"], Is.EqualTo("pt"));
        const string a = "base_model.model.transformer.h.0.attn.c_attn.lora_A.weight";
        const string b = "base_model.model.transformer.h.0.attn.c_attn.lora_B.weight";
        Assert.That(source.GetInfo(a).Shape, Is.EqualTo(new long[] { 8, 768 }));
        Assert.That(source.GetInfo(b).Shape, Is.EqualTo(new long[] { 2304, 8 }));

        // Values cross-checked against the file's bytes read independently.
        byte[] raw = File.ReadAllBytes(path);
        long dataStart = 8 + (long)BinaryPrimitives.ReadUInt64LittleEndian(raw);
        using var ta = source.GetTensor(a);
        using var tb = source.GetTensor(b);
        var fa = ta.AsSpan<float>();
        var fb = tb.AsSpan<float>();
        foreach (int i in new[] { 0, 1, 767, 6143 })
            Assert.That(fa[i], Is.EqualTo(BinaryPrimitives.ReadSingleLittleEndian(raw.AsSpan((int)(dataStart + source.GetInfo(a).DataBegin + 4 * i)))), $"A[{i}]");
        Assert.That(fb[^1], Is.EqualTo(BinaryPrimitives.ReadSingleLittleEndian(raw.AsSpan((int)(dataStart + source.GetInfo(b).DataEnd - 4)))), "B[last]");
        Assert.That(fa.ToArray().Any(v => v != 0f), Is.True);
    }

    [Test]
    public void Fixtures_SmolLmAndReferenceModels_KnownLayout()
    {
        using (var lora = SafetensorsCollection.Open(Fixtures.RealAdapter("smollm135m-medical-lora-100ep")))
        {
            Assert.That(lora.Tensors, Has.Count.EqualTo(120));
            Assert.That(lora.GetInfo("base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight").Shape, Is.EqualTo(new long[] { 16, 576 }));
            Assert.That(lora.Tensors[0].DataBegin, Is.Zero);
        }
        using (var bf16 = SafetensorsCollection.Open(Fixtures.ReferenceModel("gpt2-tiny/base-bf16")))
        {
            Assert.That(bf16.Tensors, Has.Count.EqualTo(28));
            Assert.That(bf16.Tensors.All(t => t.DType == DType.BF16), Is.True);
            Assert.That(bf16.GetInfo("transformer.h.0.attn.c_attn.weight").Shape, Is.EqualTo(new long[] { 32, 96 }));
        }
        using var expected = SafetensorsFile.Open(Fixtures.ReferenceModel("llama-tiny/expected.safetensors"));
        Assert.That(expected.Tensors.Count(t => t.DType == DType.I64), Is.EqualTo(14));
        Assert.That(expected.Tensors.Count(t => t.DType == DType.F32), Is.EqualTo(24));
        Assert.That(expected.GetInfo("base/logits").Shape, Is.EqualTo(new long[] { 20, 80 }));
        using var greedy = expected.GetTensor("base/greedy");
        Assert.That(greedy.AsSpan<long>().ToArray(), Has.All.InRange(0L, 79L), "greedy token ids lie in the 80-token vocabulary");
    }
}
