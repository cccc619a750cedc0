using System.Buffers.Binary;
using System.IO.MemoryMappedFiles;
using System.Text;
using PeftNative.SafeTensors;

namespace PeftNative.Tests.SafeTensors;

/// <summary>
/// SafetensorsWriter: exact bytes against the reference implementation's own test vectors and
/// hand-written headers, padding, order, every dtype bit-exact, sharding and the index,
/// atomicity (failure and cancellation leave nothing), byte-count checks, bounded memory.
/// Files are read back with the test's own parser (<see cref="ParsedSafetensors"/>).
/// </summary>
[TestFixture]
public class WriterTests
{
    private static readonly SafetensorsWriteOptions Fast = new() { Durable = false };

    private ScratchDirectory _dir = null!;

    [SetUp]
    public void SetUp() => _dir = new ScratchDirectory();

    [TearDown]
    public void TearDown() => _dir.Dispose();

    // ---- exact bytes ----------------------------------------------------------------------

    /// <summary>
    /// The expected files of huggingface/safetensors' own serialization tests (tensor.rs:
    /// test_serialization, test_serialization_forced_alignement, test_empty), written out as
    /// header text + prefix value here.
    /// </summary>
    [TestCase("attn.0", new long[] { 1, 2, 3 }, "{\"attn.0\":{\"dtype\":\"F32\",\"shape\":[1,2,3],\"data_offsets\":[0,24]}}", 64)]
    [TestCase("attn0", new long[] { 1, 1, 2, 3 }, "{\"attn0\":{\"dtype\":\"F32\",\"shape\":[1,1,2,3],\"data_offsets\":[0,24]}}       ", 72)]
    public void ReferenceVectors_OneF32Tensor(string name, long[] shape, string header, int prefix)
    {
        byte[] data = new float[] { 0, 1, 2, 3, 4, 5 }.SelectMany(BitConverter.GetBytes).ToArray();
        byte[] expected = [.. Prefix(prefix), .. Encoding.ASCII.GetBytes(header), .. data];

        byte[] inMemory = SafetensorsWriter.Serialize([SafetensorsEntry.FromBytes(name, DType.F32, shape, data)]);
        string path = _dir.File("ref.safetensors");
        SafetensorsWriter.Write(path, [SafetensorsEntry.FromBytes(name, DType.F32, shape, data)]);

        Assert.That(inMemory, Is.EqualTo(expected));
        Assert.That(File.ReadAllBytes(path), Is.EqualTo(expected));
    }

    [Test]
    public void ReferenceVectors_Empty()
    {
        Assert.That(SafetensorsWriter.Serialize([]), Is.EqualTo((byte[])[.. Prefix(8), .. "{}      "u8]));
        var framework = new Dictionary<string, string> { ["framework"] = "pt" };
        Assert.That(SafetensorsWriter.Serialize([], framework),
            Is.EqualTo((byte[])[.. Prefix(40), .. "{\"__metadata__\":{\"framework\":\"pt\"}}     "u8]));
    }

    /// <summary>
    /// Three dtypes whose file order differs from name order (I64 before F32 before BF16), a
    /// non-ASCII name, metadata out of key order with a non-ASCII value, a quote, a newline and a
    /// control character. Header written out by hand: 212 bytes of JSON + 4 spaces = 216.
    /// </summary>
    [Test]
    public void KnownCase_ExactBytes()
    {
        byte[] a = [0x80, 0x3F, 0x00, 0xC0];                                   // bf16 1, -2
        byte[] b = [0, 0, 0x80, 0x3F, 0, 0, 0, 0xC0];                          // f32 1, -2
        byte[] omega = [7, 0, 0, 0, 0, 0, 0, 0x80];                            // i64
        var metadata = new Dictionary<string, string> { ["z"] = "é\"q\n\u001f", ["a"] = "x/y" };
        SafetensorsEntry[] entries =
        [
            SafetensorsEntry.FromBytes("a", DType.BF16, [2], a),
            SafetensorsEntry.FromBytes("b", DType.F32, [2], b),
            SafetensorsEntry.FromBytes("ω", DType.I64, [1], omega),
        ];
        const string header =
            "{\"__metadata__\":{\"a\":\"x/y\",\"z\":\"é\\\"q\\n\\u001f\"}," +
            "\"ω\":{\"dtype\":\"I64\",\"shape\":[1],\"data_offsets\":[0,8]}," +
            "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[8,16]}," +
            "\"a\":{\"dtype\":\"BF16\",\"shape\":[2],\"data_offsets\":[16,20]}}";
        byte[] headerBytes = Encoding.UTF8.GetBytes(header);
        Assert.That(headerBytes, Has.Length.EqualTo(212), "test's own arithmetic");
        byte[] expected = [.. Prefix(216), .. headerBytes, .. "    "u8, .. omega, .. b, .. a];

        string path = _dir.File("model.safetensors");
        var result = SafetensorsWriter.Write(path, entries, metadata);

        Assert.That(File.ReadAllBytes(path), Is.EqualTo(expected));
        Assert.That(result.Files, Is.EqualTo(new[] { path }));
        Assert.That(result.IndexFile, Is.Null);
        Assert.That(result.TotalDataBytes, Is.EqualTo(20));
        Assert.That(_dir.Listing(), Is.EqualTo(new[] { "model.safetensors" }), "no temporary file left");
    }

    [Test]
    public void Metadata_NullIsOmitted_EmptyIsWritten()
    {
        var t = SafetensorsEntry.FromBytes("t", DType.U8, [1], new byte[] { 9 });
        string without = Encoding.UTF8.GetString(SafetensorsWriter.Serialize([t]));
        string empty = Encoding.UTF8.GetString(SafetensorsWriter.Serialize([t], new Dictionary<string, string>()));
        Assert.That(without, Does.Not.Contain("__metadata__"));
        Assert.That(empty, Does.Contain("{\"__metadata__\":{},\"t\":{"));
    }

    [Test]
    public void Escaping_MatchesSerdeJson()
    {
        // serde_json escapes '"', '\\', \b \t \n \f \r, other C0 controls as \u00xx (lower-case);
        // DEL, '/', non-ASCII and astral characters are written as raw UTF-8.
        string value = "\"\\\b\t\n\f\r\u0000\u001b\u007f/é😀";
        string json = Encoding.UTF8.GetString(SafetensorsWriter.Serialize([], new Dictionary<string, string> { ["k"] = value }).AsSpan(8));
        Assert.That(json.TrimEnd(' '), Is.EqualTo("{\"__metadata__\":{\"k\":\"\\\"\\\\\\b\\t\\n\\f\\r\\u0000\\u001b\u007f/é😀\"}}"));
    }

    // ---- padding and order ------------------------------------------------------------------

    [Test]
    public void Header_IsPaddedWithSpacesToAMultipleOf8_ForEveryResidue()
    {
        var residues = new HashSet<int>();
        for (int len = 1; len <= 24; len++)
        {
            string name = new('n', len);
            string json = $"{{\"{name}\":{{\"dtype\":\"U8\",\"shape\":[3],\"data_offsets\":[0,3]}}}}";
            int jsonBytes = Encoding.UTF8.GetByteCount(json);
            residues.Add(jsonBytes % 8);
            byte[] file = SafetensorsWriter.Serialize([SafetensorsEntry.FromBytes(name, DType.U8, [3], new byte[] { 1, 2, 3 })]);
            var parsed = ParsedSafetensors.Parse(file);
            int padding = (int)parsed.HeaderLength - jsonBytes;
            using (Assert.EnterMultipleScope())
            {
                Assert.That(parsed.HeaderLength % 8, Is.Zero, $"name length {len}");
                Assert.That(padding, Is.InRange(0, 7), $"name length {len}");
                Assert.That(parsed.HeaderText, Is.EqualTo(json + new string(' ', padding)), $"name length {len}");
                Assert.That(file.AsSpan(file.Length - 3).ToArray(), Is.EqualTo(new byte[] { 1, 2, 3 }));
            }
        }
        Assert.That(residues, Has.Count.EqualTo(8), "the names must exercise every JSON length modulo 8");
    }

    /// <summary>The reference Dtype enum, highest first: the file order of one tensor of each.</summary>
    private static readonly DType[] ReferenceOrderDescending =
    [
        DType.U64, DType.I64, DType.F64, DType.C64, DType.F32, DType.U32, DType.I32, DType.BF16, DType.F16,
        DType.U16, DType.I16, DType.F8_E5M2FNUZ, DType.F8_E4M3FNUZ, DType.F8_E8M0, DType.F8_E4M3, DType.F8_E5M2,
        DType.I8, DType.U8, DType.F6_E3M2, DType.F6_E2M3, DType.F4, DType.Bool,
    ];

    [Test]
    public void EveryDType_RoundTripsBitExact_InReferenceOrder()
    {
        Assert.That(ReferenceOrderDescending, Is.EquivalentTo(Enum.GetValues<DType>()), "the test covers every dtype");
        var rng = new Random(20240607);
        var data = new Dictionary<string, byte[]>();
        var entries = new List<SafetensorsEntry>();
        // Names run against the dtype order, so sorting by name alone would give another order.
        foreach (var (d, i) in ReferenceOrderDescending.Select((d, i) => (d, i)))
        {
            long[] shape = [4, 2];                                                 // 8 elements: whole bytes for 4- and 6-bit types too
            var bytes = NonZeroBytes(rng, (int)(8L * d.BitsOf() / 8));
            string name = $"t{ReferenceOrderDescending.Length - i:D2}.{d}";
            data[name] = bytes;
            entries.Add(i % 2 == 0
                ? SafetensorsEntry.FromBytes(name, d, shape, bytes)
                : SafetensorsEntry.FromWriter(name, d, shape, (s, _) => { s.Write(bytes, 0, 1); s.Write(bytes.AsSpan(1)); }));
        }
        entries.Reverse();

        string path = _dir.File("all.safetensors");
        SafetensorsWriter.Write(path, entries, options: Fast);
        var parsed = ParsedSafetensors.ReadFile(path);

        parsed.AssertWellFormed();
        Assert.That(parsed.Tensors.Select(t => t.DType), Is.EqualTo(ReferenceOrderDescending.Select(d => d == DType.Bool ? "BOOL" : d.ToString())));
        foreach (var t in parsed.Tensors)
        {
            Assert.That(t.Shape, Is.EqualTo(new long[] { 4, 2 }), t.Name);
            Assert.That(parsed.Data(t).ToArray(), Is.EqualTo(data[t.Name]), $"{t.Name}: data must come back bit-exact");
        }
    }

    [Test]
    public void Order_WithinADType_IsByCodePoint_NotUtf16()
    {
        // Code-point (= UTF-8 byte) order: "B" < "a" < "é" < U+FFFD < U+1F600. Ordinal UTF-16 would
        // put the astral character (a surrogate pair, 0xD83D...) before U+FFFD.
        string[] expected = ["B", "a", "é", "\uFFFD", "😀"];
        var entries = expected.Reverse().Select(n => SafetensorsEntry.FromBytes(n, DType.F16, [1], new byte[] { 1, 2 })).ToList();
        var parsed = ParsedSafetensors.Parse(SafetensorsWriter.Serialize(entries));
        Assert.That(parsed.Tensors.Select(t => t.Name), Is.EqualTo(expected));
    }

    [Test]
    public void ZeroSizedAndScalarTensors_AreLaidOutToo()
    {
        SafetensorsEntry[] entries =
        [
            SafetensorsEntry.FromBytes("empty", DType.F32, [0, 3], Array.Empty<byte>()),
            SafetensorsEntry.FromBytes("scalar", DType.F32, [], new byte[] { 1, 2, 3, 4 }),
        ];
        var parsed = ParsedSafetensors.Parse(SafetensorsWriter.Serialize(entries));
        parsed.AssertWellFormed();
        Assert.That(parsed.HeaderText, Does.Contain("\"empty\":{\"dtype\":\"F32\",\"shape\":[0,3],\"data_offsets\":[0,0]}"));
        Assert.That(parsed.HeaderText, Does.Contain("\"scalar\":{\"dtype\":\"F32\",\"shape\":[],\"data_offsets\":[0,4]}"));
    }

    [Test]
    public void FromTensor_WritesTheTensorsMemory()
    {
        using var w = Tensor.Allocate(DType.BF16, 3, 5);
        var rng = new Random(5);
        NonZeroBytes(rng, (int)w.ByteLength).CopyTo(w.AsBytes());
        string path = _dir.File("t.safetensors");
        SafetensorsWriter.Write(path, [SafetensorsEntry.FromTensor("w", w)]);
        var parsed = ParsedSafetensors.ReadFile(path);
        Assert.That(parsed["w"].Shape, Is.EqualTo(new long[] { 3, 5 }));
        Assert.That(parsed["w"].DType, Is.EqualTo("BF16"));
        Assert.That(parsed.Data(parsed["w"]).ToArray(), Is.EqualTo(w.AsBytes().ToArray()));
    }

    // ---- sharding ----------------------------------------------------------------------------

    [Test]
    public void Sharding_GreedyInFileOrder_WithHuggingFaceNamesAndIndex()
    {
        // File order: I64 "big" first (rank 20), then F32 t0..t3, then U8 "u". Limit 64 bytes:
        // big (96 > 64) alone; t0 (40), then t1 would make 80; t1 + t2 = 64 exactly; t3 + u.
        var rng = new Random(11);
        var sizes = new (string Name, DType DType, long[] Shape)[]
        {
            ("t0", DType.F32, [10]), ("t1", DType.F32, [2, 5]), ("t2", DType.F32, [6]), ("t3", DType.F32, [3, 2]),
            ("big", DType.I64, [12]), ("u", DType.U8, [8]),
        };
        var data = sizes.ToDictionary(s => s.Name, s => NonZeroBytes(rng, (int)s.DType.ByteLengthOf(s.Shape.Aggregate(1L, (a, b) => a * b))));
        var entries = sizes.Select(s => SafetensorsEntry.FromBytes(s.Name, s.DType, s.Shape, data[s.Name])).ToList();
        var metadata = new Dictionary<string, string> { ["format"] = "pt" };

        string target = _dir.File("model.safetensors");
        var result = SafetensorsWriter.Write(target, entries, metadata, new SafetensorsWriteOptions { MaxShardBytes = 64 });

        string[] names = ["model-00001-of-00004.safetensors", "model-00002-of-00004.safetensors",
                          "model-00003-of-00004.safetensors", "model-00004-of-00004.safetensors"];
        string[][] contents = [["big"], ["t0"], ["t1", "t2"], ["t3", "u"]];
        Assert.That(result.Files, Is.EqualTo(names.Select(_dir.File)));
        Assert.That(result.IndexFile, Is.EqualTo(target + ".index.json"));
        Assert.That(result.TotalDataBytes, Is.EqualTo(96 + 40 + 40 + 24 + 24 + 8));
        Assert.That(_dir.Listing(), Is.EqualTo(names.Append("model.safetensors.index.json").Order(StringComparer.Ordinal)),
            "the shards and the index, no single file, no temporaries");
        for (int i = 0; i < names.Length; i++)
        {
            var shard = ParsedSafetensors.ReadFile(_dir.File(names[i]));
            shard.AssertWellFormed();
            Assert.That(shard.Tensors.Select(t => t.Name), Is.EqualTo(contents[i]), names[i]);
            Assert.That(shard.Metadata, Is.EqualTo(metadata), $"{names[i]} carries the same __metadata__");
            foreach (var t in shard.Tensors)
                Assert.That(shard.Data(t).ToArray(), Is.EqualTo(data[t.Name]), t.Name);
        }
        // transformers: json.dumps(index, indent=2, sort_keys=True) + "\n"
        const string expectedIndex = """
            {
              "metadata": {
                "total_size": 232
              },
              "weight_map": {
                "big": "model-00001-of-00004.safetensors",
                "t0": "model-00002-of-00004.safetensors",
                "t1": "model-00003-of-00004.safetensors",
                "t2": "model-00003-of-00004.safetensors",
                "t3": "model-00004-of-00004.safetensors",
                "u": "model-00004-of-00004.safetensors"
              }
            }

            """;
        Assert.That(File.ReadAllText(result.IndexFile!), Is.EqualTo(expectedIndex.ReplaceLineEndings("\n")));
    }

    [Test]
    public void Sharding_IndexEscapesLikePythonJson_AndSortsByCodePoint()
    {
        // Python's json.dumps (ensure_ascii): non-ASCII as \uxxxx, astral as a surrogate pair, DEL escaped.
        SafetensorsEntry[] entries =
        [
            SafetensorsEntry.FromBytes("😀", DType.U8, [4], new byte[] { 1, 1, 1, 1 }),
            SafetensorsEntry.FromBytes("\uFFFD\"\u007f", DType.U8, [4], new byte[] { 2, 2, 2, 2 }),
        ];
        var result = SafetensorsWriter.Write(_dir.File("m.safetensors"), entries, null, new SafetensorsWriteOptions { MaxShardBytes = 4 });
        string index = File.ReadAllText(result.IndexFile!);
        Assert.That(index, Does.Contain("""
                "\ufffd\"\u007f": "m-00001-of-00002.safetensors",
                "\ud83d\ude00": "m-00002-of-00002.safetensors"
            """.ReplaceLineEndings("\n")));
    }

    [Test]
    public void Sharding_WhenEverythingFits_WritesOneFileAndNoIndex()
    {
        var entries = new[] { SafetensorsEntry.FromBytes("a", DType.U8, [10], new byte[10]), SafetensorsEntry.FromBytes("b", DType.U8, [10], new byte[10]) };
        var result = SafetensorsWriter.Write(_dir.File("model.safetensors"), entries, null, new SafetensorsWriteOptions { MaxShardBytes = 20 });
        Assert.That(result.Files, Is.EqualTo(new[] { _dir.File("model.safetensors") }));
        Assert.That(result.IndexFile, Is.Null);
        Assert.That(_dir.Listing(), Is.EqualTo(new[] { "model.safetensors" }));
    }

    [TestCase(true)]
    [TestCase(false)]
    public void StaleCheckpointFiles_AreRemovedUnlessDisabled(bool remove)
    {
        string[] old = ["model-00001-of-00003.safetensors", "model-00003-of-00003.safetensors", "model.safetensors.index.json"];
        foreach (var f in old)
            File.WriteAllText(_dir.File(f), "old");
        File.WriteAllText(_dir.File("other-00001-of-00002.safetensors"), "not ours");
        var options = new SafetensorsWriteOptions { Durable = false, RemoveStaleFiles = remove };

        SafetensorsWriter.Write(_dir.File("model.safetensors"), [SafetensorsEntry.FromBytes("a", DType.U8, [1], new byte[] { 1 })], null, options);
        string[] single = remove ? ["model.safetensors", "other-00001-of-00002.safetensors"]
                                 : [.. old, "model.safetensors", "other-00001-of-00002.safetensors"];
        Assert.That(_dir.Listing(), Is.EquivalentTo(single));

        // Now sharded: the single file is stale (loaders try it before the index).
        SafetensorsWriter.Write(_dir.File("model.safetensors"),
            [SafetensorsEntry.FromBytes("a", DType.U8, [1], new byte[] { 1 }), SafetensorsEntry.FromBytes("b", DType.U8, [1], new byte[] { 2 })],
            null, options with { MaxShardBytes = 1 });
        string[] sharded = ["model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors", "model.safetensors.index.json", "other-00001-of-00002.safetensors"];
        Assert.That(_dir.Listing(), Is.EquivalentTo(remove ? sharded : sharded.Union(single)));
    }

    // ---- atomicity ---------------------------------------------------------------------------

    [Test]
    public void WhileWriting_OnlyATemporaryFileExists_InTheTargetDirectory()
    {
        string[]? seen = null;
        SafetensorsWriter.Write(_dir.File("model.safetensors"),
            [SafetensorsEntry.FromWriter("a", DType.U8, [2], (s, _) => { seen = _dir.Listing(); s.Write([1, 2]); })]);
        Assert.That(seen, Has.Length.EqualTo(1));
        Assert.That(seen![0], Does.Match(@"^\.model\.safetensors\.[0-9a-f]{12}\.tmp$"));
        Assert.That(_dir.Listing(), Is.EqualTo(new[] { "model.safetensors" }));
    }

    [TestCase(null)]
    [TestCase(8L)]
    public void ThrowingDataWriter_LeavesNothing_AndTheOldFileUnchanged(long? maxShardBytes)
    {
        string target = _dir.File("model.safetensors");
        byte[] before = [1, 2, 3, 4, 5];
        File.WriteAllBytes(target, before);
        var entries = new List<SafetensorsEntry>
        {
            SafetensorsEntry.FromBytes("a", DType.U8, [8], new byte[8]),
            SafetensorsEntry.FromWriter("b", DType.U8, [1 << 20], (s, _) =>
            {
                s.Write(new byte[1000]);
                throw new InvalidDataException("source broke");
            }),
        };

        var e = Assert.Throws<InvalidDataException>(() =>
            SafetensorsWriter.Write(target, entries, null, new SafetensorsWriteOptions { MaxShardBytes = maxShardBytes }));
        Assert.That(e!.Message, Is.EqualTo("source broke"), "the callback's exception comes through as it is");
        Assert.That(_dir.Listing(), Is.EqualTo(new[] { "model.safetensors" }), "no temporary, no shard, no index");
        Assert.That(File.ReadAllBytes(target), Is.EqualTo(before));
    }

    [Test]
    public void Cancellation_InsideATensor_LeavesNothing()
    {
        using var cts = new CancellationTokenSource();
        string target = _dir.File("model.safetensors");
        File.WriteAllText(target, "old");
        int chunks = 0;
        var entry = SafetensorsEntry.FromWriter("big", DType.U8, [64L << 20], (s, token) =>
        {
            var chunk = new byte[1 << 20];
            for (int i = 0; i < 64; i++)
            {
                if (i == 3)
                    cts.Cancel();          // the stream's own check must stop the next write
                s.Write(chunk);
                chunks++;
            }
        });

        Assert.Throws<OperationCanceledException>(() => SafetensorsWriter.Write(target, [entry], null, Fast, cts.Token));
        Assert.That(chunks, Is.EqualTo(3), "the write after the cancellation is refused");
        Assert.That(_dir.Listing(), Is.EqualTo(new[] { "model.safetensors" }));
        Assert.That(File.ReadAllText(target), Is.EqualTo("old"));
    }

    [Test]
    public void Cancellation_BetweenTensorsAndBefore_LeavesNothing()
    {
        using var cts = new CancellationTokenSource();
        var entries = new[]
        {
            SafetensorsEntry.FromWriter("a", DType.U8, [4], (s, _) => { s.Write([1, 2, 3, 4]); cts.Cancel(); }),
            SafetensorsEntry.FromWriter("b", DType.U8, [4], (s, _) => Assert.Fail("b must not be asked for after the cancellation")),
        };
        Assert.Throws<OperationCanceledException>(() => SafetensorsWriter.Write(_dir.File("m.safetensors"), entries, null, Fast, cts.Token));
        Assert.That(_dir.Listing(), Is.Empty);

        Assert.Throws<OperationCanceledException>(() =>
            SafetensorsWriter.Write(_dir.File("m.safetensors"), [SafetensorsEntry.FromBytes("a", DType.U8, [1], new byte[1])], null, Fast, cts.Token));
        Assert.That(_dir.Listing(), Is.Empty);
    }

    [Test]
    public void ReplacingAFile_KeepsAReadersMappingOfTheOldBytes()
    {
        Assume.That(OperatingSystem.IsWindows(), Is.False, "Windows refuses to replace a mapped file");
        string target = _dir.File("model.safetensors");
        SafetensorsWriter.Write(target, [SafetensorsEntry.FromBytes("w", DType.U8, [4], new byte[] { 1, 2, 3, 4 })]);
        byte[] old = File.ReadAllBytes(target);
        using var map = MemoryMappedFile.CreateFromFile(target, FileMode.Open, null, 0, MemoryMappedFileAccess.Read);
        using var view = map.CreateViewAccessor(0, old.Length, MemoryMappedFileAccess.Read);

        SafetensorsWriter.Write(target, [SafetensorsEntry.FromBytes("w", DType.U8, [4], new byte[] { 9, 9, 9, 9 })]);

        var mapped = new byte[old.Length];
        view.ReadArray(0, mapped, 0, mapped.Length);
        Assert.That(mapped, Is.EqualTo(old), "the old mapping still shows the old file");
        var now = ParsedSafetensors.ReadFile(target);
        Assert.That(now.Data(now["w"]).ToArray(), Is.EqualTo(new byte[] { 9, 9, 9, 9 }));
    }

    // ---- byte counts ---------------------------------------------------------------------------

    [Test]
    public void ShortWrite_IsAnErrorNamingTheTensor_AndLeavesNothing()
    {
        var entry = SafetensorsEntry.FromWriter("layer.3.weight", DType.F32, [4], (s, _) => s.Write(new byte[15]));
        var e = Assert.Throws<InvalidOperationException>(() => SafetensorsWriter.Write(_dir.File("m.safetensors"), [entry]));
        Assert.That(e!.Message, Does.Contain("'layer.3.weight'").And.Contain("15").And.Contain("16"));
        Assert.That(_dir.Listing(), Is.Empty);
    }

    [Test]
    public void LongWrite_IsRefused_EvenWhenTheCallbackSwallowsTheError()
    {
        var loud = SafetensorsEntry.FromWriter("w", DType.F32, [4], (s, _) => s.Write(new byte[17]));
        var e = Assert.Throws<InvalidOperationException>(() => SafetensorsWriter.Write(_dir.File("m.safetensors"), [loud]));
        Assert.That(e!.Message, Does.Contain("'w'").And.Contain("16"));

        var quiet = SafetensorsEntry.FromWriter("w2", DType.F32, [4], (s, _) =>
        {
            s.Write(new byte[16]);
            try
            {
                s.WriteByte(1);
            }
            catch (InvalidOperationException)
            {
                // swallowed
            }
        });
        e = Assert.Throws<InvalidOperationException>(() => SafetensorsWriter.Write(_dir.File("m.safetensors"), [quiet]));
        Assert.That(e!.Message, Does.Contain("'w2'"));
        Assert.That(_dir.Listing(), Is.Empty);
    }

    [Test]
    public void TheStream_IsClosedWhenTheCallbackReturns()
    {
        Stream? kept = null;
        var first = SafetensorsEntry.FromWriter("a", DType.U8, [1], (s, _) => { kept = s; s.WriteByte(1); });
        var second = SafetensorsEntry.FromWriter("b", DType.U8, [2], (s, _) => { kept!.WriteByte(2); });
        Assert.Throws<ObjectDisposedException>(() => SafetensorsWriter.Write(_dir.File("m.safetensors"), [first, second]));
        Assert.That(_dir.Listing(), Is.Empty);
        Assert.That(kept!.CanWrite, Is.False);
    }

    // ---- validation ----------------------------------------------------------------------------

    [Test]
    public void BadDeclarations_AreArgumentExceptionsNamingTheTensor()
    {
        static void Nop(Stream s, CancellationToken c) { }
        using (Assert.EnterMultipleScope())
        {
            Assert.That(() => SafetensorsEntry.FromWriter("neg", DType.F32, [3, -1], Nop),
                Throws.ArgumentException.With.Message.Contains("'neg'").And.Message.Contains("negative"));
            Assert.That(() => SafetensorsEntry.FromWriter("huge", DType.F64, [long.MaxValue / 4, 2], Nop),
                Throws.ArgumentException.With.Message.Contains("'huge'").And.Message.Contains("overflow"));
            Assert.That(() => SafetensorsEntry.FromWriter("nib", DType.F4, [3], Nop),
                Throws.ArgumentException.With.Message.Contains("'nib'").And.Message.Contains("byte boundary"));
            Assert.That(() => SafetensorsEntry.FromWriter("six", DType.F6_E2M3, [2], Nop),
                Throws.ArgumentException.With.Message.Contains("'six'"));
            Assert.That(() => SafetensorsEntry.FromWriter("__metadata__", DType.U8, [1], Nop),
                Throws.ArgumentException.With.Message.Contains("__metadata__"));
            Assert.That(() => SafetensorsEntry.FromWriter("bad\uD800", DType.U8, [1], Nop),
                Throws.ArgumentException.With.Message.Contains("surrogate"));
            Assert.That(() => SafetensorsEntry.FromWriter("x", (DType)99, [1], Nop), Throws.ArgumentException);
            Assert.That(() => SafetensorsEntry.FromBytes("short", DType.F32, [2], new byte[7]),
                Throws.ArgumentException.With.Message.Contains("'short'").And.Message.Contains("7"));
            Assert.That(() => SafetensorsEntry.FromWriter(null!, DType.U8, [1], Nop), Throws.ArgumentNullException);
            Assert.That(() => SafetensorsEntry.FromWriter("n", DType.U8, null!, Nop), Throws.ArgumentNullException);
            Assert.That(() => SafetensorsEntry.FromWriter("n", DType.U8, [1], null!), Throws.ArgumentNullException);
        }
        Assert.That(SafetensorsEntry.FromWriter("nib", DType.F4, [3, 2], Nop).ByteLength, Is.EqualTo(3));
        Assert.That(SafetensorsEntry.FromWriter("six", DType.F6_E3M2, [4], Nop).ByteLength, Is.EqualTo(3));
        Assert.That(_dir.Listing(), Is.Empty);
    }

    [Test]
    public void BadWrites_AreRefusedBeforeAnyFileIsCreated()
    {
        var a = SafetensorsEntry.FromBytes("a", DType.U8, [1], new byte[1]);
        var a2 = SafetensorsEntry.FromBytes("a", DType.F32, [1], new byte[4]);
        string path = _dir.File("m.safetensors");
        using (Assert.EnterMultipleScope())
        {
            Assert.That(() => SafetensorsWriter.Write(path, [a, a2]), Throws.ArgumentException.With.Message.Contains("'a'").And.Message.Contains("twice"));
            Assert.That(() => SafetensorsWriter.Write(path, [a], new Dictionary<string, string> { ["k"] = null! }),
                Throws.ArgumentException.With.Message.Contains("'k'"));
            Assert.That(() => SafetensorsWriter.Write(path, [a], null, new SafetensorsWriteOptions { MaxShardBytes = 0 }), Throws.InstanceOf<ArgumentOutOfRangeException>());
            Assert.That(() => SafetensorsWriter.Write(_dir.Path, [a]), Throws.ArgumentException.With.Message.Contains("directory"));
            Assert.That(() => SafetensorsWriter.Write(Path.Combine(_dir.Path, "missing", "m.safetensors"), [a]), Throws.InstanceOf<DirectoryNotFoundException>());
            Assert.That(() => SafetensorsWriter.Write("", [a]), Throws.ArgumentException);
            Assert.That(() => SafetensorsWriter.Write(path, null!), Throws.ArgumentNullException);
            // Each is fine (an eighth of the 64-bit range); nine together overflow the data section.
            var huge = Enumerable.Range(0, 9).Select(i => SafetensorsEntry.FromWriter($"x{i}", DType.U8, [long.MaxValue / 8], (s, _) => { }));
            Assert.That(() => SafetensorsWriter.Write(path, huge), Throws.ArgumentException.With.Message.Contains("'x8'").And.Message.Contains("overflow"));
        }
        Assert.That(_dir.Listing(), Is.Empty);
    }

    // ---- memory --------------------------------------------------------------------------------

    [Test]
    public void A256MiBTensorFromACallback_StreamsInBoundedMemory()
    {
        const int chunk = 1 << 20;
        const int chunks = 256;
        var entry = SafetensorsEntry.FromWriter("big", DType.BF16, [chunks, chunk / 2], (s, _) =>
        {
            var buffer = new byte[chunk];
            for (int i = 0; i < chunks; i++)
            {
                Pattern(buffer, i);
                s.Write(buffer);
            }
        });
        var small = SafetensorsEntry.FromBytes("small", DType.F32, [1], new byte[] { 1, 2, 3, 4 });
        string path = _dir.File("big.safetensors");

        long allocatedBefore = GC.GetAllocatedBytesForCurrentThread();
        SafetensorsWriter.Write(path, [entry, small], null, Fast);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - allocatedBefore;

        Assert.That(allocated, Is.LessThan(8L << 20), "the writer must not buffer the tensor (1 MiB callback buffer + 1 MiB file buffer + small change)");
        using var file = File.OpenRead(path);
        var prefix = new byte[8];
        file.ReadExactly(prefix);
        var header = new byte[BinaryPrimitives.ReadUInt64LittleEndian(prefix)];
        file.ReadExactly(header);
        var parsed = ParsedSafetensors.Parse([.. prefix, .. header]);
        Assert.That(parsed.Tensors.Select(t => t.Name), Is.EqualTo(new[] { "small", "big" }), "F32 before BF16");
        Assert.That(file.Length, Is.EqualTo(8 + header.Length + 4 + (long)chunk * chunks));
        file.Seek(4, SeekOrigin.Current);
        var expected = new byte[chunk];
        var actual = new byte[chunk];
        for (int i = 0; i < chunks; i++)
        {
            Pattern(expected, i);
            file.ReadExactly(actual);
            if (!actual.AsSpan().SequenceEqual(expected))
                Assert.Fail($"chunk {i} of the 256 MiB tensor differs");
        }
    }

    // ---- helpers -------------------------------------------------------------------------------

    private static byte[] Prefix(long n)
    {
        var p = new byte[8];
        BinaryPrimitives.WriteInt64LittleEndian(p, n);
        return p;
    }

    private static byte[] NonZeroBytes(Random rng, int n)
    {
        var b = new byte[n];
        rng.NextBytes(b);
        for (int i = 0; i < n; i++)
            b[i] = b[i] == 0 ? (byte)0x5A : b[i];
        return b;
    }

    private static void Pattern(byte[] buffer, int chunkIndex)
    {
        for (int j = 0; j < buffer.Length; j += 4)
            BinaryPrimitives.WriteInt32LittleEndian(buffer.AsSpan(j), (chunkIndex * 0x01000193) ^ j);
    }
}
