using System.Buffers.Binary;
using System.Text;
using PeftNative.SafeTensors;

namespace PeftNative.Tests.SafeTensors;

/// <summary>
/// Refusing broken input: the committed broken corpus (one defect per file or folder, each with
/// the message fragment listed in broken/EXPECTED.tsv), and a seeded fuzz of
/// <see cref="SafetensorsHeader.Parse"/> that allows no exception type but
/// <see cref="SafetensorsFormatException"/>.
/// </summary>
[TestFixture]
public class BrokenFileTests
{
    private static (string Name, string Fragment)[] ExpectedCases() =>
        [.. File.ReadAllLines(Path.Combine(Corpus.Broken, "EXPECTED.tsv"))
            .Where(l => l.Length > 0 && !l.StartsWith('#'))
            .Select(l => l.Split('\t'))
            .Select(p => (p[0], p[1]))];

    private static IEnumerable<TestCaseData> FileCases() =>
        ExpectedCases().Where(c => File.Exists(Path.Combine(Corpus.Broken, c.Name)))
            .Select(c => new TestCaseData(c.Name, c.Fragment).SetArgDisplayNames(c.Name));

    private static IEnumerable<TestCaseData> FolderCases() =>
        ExpectedCases().Where(c => Directory.Exists(Path.Combine(Corpus.Broken, c.Name)))
            .Select(c => new TestCaseData(c.Name, c.Fragment).SetArgDisplayNames(c.Name));

    [TestCaseSource(nameof(FileCases))]
    public void BrokenFile_IsRefusedWithItsMessage(string name, string fragment)
    {
        string path = Path.Combine(Corpus.Broken, name);
        var opened = Assert.Throws<SafetensorsFormatException>(() => SafetensorsFile.Open(path).Dispose());
        Assert.That(opened!.Message, Does.Contain(fragment), "SafetensorsFile.Open");
        Assert.That(opened.Message, Does.StartWith(path + ": "), "the message names the file");
        Assert.That(opened.FilePath, Is.EqualTo(path));

        var asCollection = Assert.Throws<SafetensorsFormatException>(() => SafetensorsCollection.Open(path).Dispose());
        Assert.That(asCollection!.Message, Is.EqualTo(opened.Message), "SafetensorsCollection.Open");

        byte[] bytes = File.ReadAllBytes(path);
        var parsed = Assert.Throws<SafetensorsFormatException>(() => SafetensorsHeader.Parse(bytes, bytes.Length, path));
        Assert.That(parsed!.Message, Is.EqualTo(opened.Message), "SafetensorsHeader.Parse over the whole file");
    }

    [TestCaseSource(nameof(FolderCases))]
    public void BrokenCheckpointFolder_IsRefusedWithItsMessage(string name, string fragment)
    {
        string dir = Path.Combine(Corpus.Broken, name);
        var e = Assert.Throws<SafetensorsFormatException>(() => SafetensorsCollection.Open(dir).Dispose());
        Assert.That(e!.Message, Does.Contain(fragment));
        Assert.That(e.Message, Does.StartWith(dir), "the message names the index, the shard or the directory");
        Assert.That(e.FilePath, Does.StartWith(dir));
    }

    [Test]
    public void Corpus_EveryEntryIsListed_AndThereAreEnough()
    {
        var cases = ExpectedCases();
        var listedTop = cases.Select(c => c.Name.Split('/')[0]).ToHashSet();
        var present = Directory.EnumerateFileSystemEntries(Corpus.Broken).Select(Path.GetFileName).Where(n => n != "EXPECTED.tsv");
        Assert.That(present, Is.SubsetOf(listedTop), "every file in broken/ has an EXPECTED.tsv line");
        Assert.That(cases.Select(c => c.Name), Is.Unique);
        Assert.That(cases.Count(c => File.Exists(Path.Combine(Corpus.Broken, c.Name))), Is.GreaterThanOrEqualTo(45));
        Assert.That(cases.Count(c => c.Name.StartsWith("sharded_", StringComparison.Ordinal)), Is.GreaterThanOrEqualTo(5));
        Assert.That(cases.All(c => File.Exists(Path.Combine(Corpus.Broken, c.Name)) || Directory.Exists(Path.Combine(Corpus.Broken, c.Name))), Is.True,
            "every EXPECTED.tsv line names something that exists");
    }

    [Test]
    public void Parse_WithFewerBytesThanTheHeader_IsAFormatError()
    {
        byte[] file = new TestSafetensorsBuilder(RandomTensors.For("broken-partial")).Add("a", DType.F32, [4]).Build();
        int headerEnd = 8 + (int)BinaryPrimitives.ReadUInt64LittleEndian(file);
        for (int given = 0; given < headerEnd; given++)
        {
            var e = Assert.Throws<SafetensorsFormatException>(() => SafetensorsHeader.Parse(file.AsSpan(0, given), file.Length, "f.safetensors"));
            Assert.That(e!.Message, Does.Contain("were given"), $"{given} bytes given");
        }
        Assert.That(SafetensorsHeader.Parse(file.AsSpan(0, headerEnd), file.Length, "f.safetensors").Tensors, Has.Count.EqualTo(1),
            "the header alone is enough");
        Assert.Throws<SafetensorsFormatException>(() => SafetensorsHeader.Parse(file, file.Length - 1, "f.safetensors"), "more bytes than the file");
        Assert.Throws<SafetensorsFormatException>(() => SafetensorsHeader.Parse(file, -1, "f.safetensors"));
    }

    [Test]
    public void Exception_CarriesFileTensorAndProblem()
    {
        byte[] bytes = File.ReadAllBytes(Path.Combine(Corpus.Broken, "tensors_overlap.safetensors"));
        var e = Assert.Throws<SafetensorsFormatException>(() => SafetensorsHeader.Parse(bytes, bytes.Length, "x.safetensors"));
        Assert.That(e!.FilePath, Is.EqualTo("x.safetensors"));
        Assert.That(e.TensorName, Is.EqualTo("b"));
        Assert.That(e.Problem, Does.StartWith("bytes [8, 24) overlap"));
        Assert.That(e, Is.InstanceOf<FileFormatException>().And.InstanceOf<IOException>());
    }

    // ---- fuzz: nothing but SafetensorsFormatException, for any bytes ------------------------------

    private static readonly string[] Tokens =
    [
        "{", "}", "[", "]", ":", ",", " ", "\"", "\"dtype\"", "\"shape\"", "\"data_offsets\"", "\"__metadata__\"",
        "\"F32\"", "\"F4\"", "\"F6_E3M2\"", "\"BOOL\"", "\"bf16\"", "\"a\"", "\"b\"", "\"\"", "0", "1", "3", "16", "-1", "-0", "2.0",
        "1e3", "9223372036854775807", "9223372036854775808", "18446744073709551615", "4294967296", "null", "true",
        "\"\\ud800\"", "\"\\u0061\"", "\"\\\"", "/*", "\u00ff", "\u00e9", "\t", "\n",
    ];

    private static readonly byte[] Interesting = "{}[]\":,-.eE019\\u \0"u8.ToArray().Concat(new byte[] { 0xFF, 0xC0, 0xE2, 0x80, 0xED }).ToArray();

    [Test]
    public void Fuzz_Parse_ThrowsOnlyFormatExceptions()
    {
        var rng = new Random(20240611);
        var seeds = SeedFiles();
        int accepted = 0, refused = 0;
        for (int i = 0; i < 40_000; i++)
        {
            byte[] input = i % 5 == 4 ? TokenSoup(rng) : Mutate(rng, seeds[rng.Next(seeds.Length)]);
            int given = rng.Next(8) == 0 ? rng.Next(input.Length + 1) : input.Length;
            try
            {
                SafetensorsHeader.Parse(input.AsSpan(0, given), input.Length, "fuzz.safetensors");
                accepted++;
            }
            catch (SafetensorsFormatException e)
            {
                refused++;
                if (!e.Message.StartsWith("fuzz.safetensors: ", StringComparison.Ordinal))
                    Assert.Fail($"message does not name the file: {e.Message}");
            }
#pragma warning disable CA1031 // any other exception is the bug this test looks for
            catch (Exception e)
#pragma warning restore CA1031
            {
                Assert.Fail($"case {i}: {e.GetType().Name}: {e.Message}\ninput (base64, {given} of {input.Length} bytes given): {Convert.ToBase64String(input)}");
            }
        }
        Assert.That(accepted, Is.GreaterThan(100), "the fuzz must also reach valid inputs");
        Assert.That(refused, Is.GreaterThan(10_000));
    }

    private static (byte[] Json, byte[] Data)[] SeedFiles()
    {
        var rng = RandomTensors.For("broken-fuzz-seeds");
        var files = Directory.EnumerateFiles(Corpus.Valid, "*.safetensors", SearchOption.AllDirectories).Select(File.ReadAllBytes).ToList();
        files.Add(new TestSafetensorsBuilder(rng).Add("a", DType.F4, [2, 2]).Add("b", DType.F6_E2M3, [4]).Add("c", DType.F32, []).Add("d", DType.U8, [0, 3]).Build());
        files.Add(new TestSafetensorsBuilder(rng).Meta("format", "pt").Add("x", DType.BF16, [2, 3]).Add("y", DType.I64, [1]).Build());
        return [.. files.Select(f =>
        {
            int n = (int)BinaryPrimitives.ReadUInt64LittleEndian(f);
            return (f[8..(8 + n)], f[(8 + n)..]);
        })];
    }

    private static byte[] Mutate(Random rng, (byte[] Json, byte[] Data) seed)
    {
        var json = new List<byte>(seed.Json);
        var data = new List<byte>(seed.Data);
        int edits = 1 + rng.Next(3);
        for (int k = 0; k < edits; k++)
        {
            int at = json.Count == 0 ? 0 : rng.Next(json.Count);
            switch (rng.Next(8))
            {
                case 0 when json.Count > 0:
                    json[at] ^= (byte)(1 << rng.Next(8));
                    break;
                case 1 when json.Count > 0:
                    json[at] = Interesting[rng.Next(Interesting.Length)];
                    break;
                case 2:
                    json.InsertRange(at, Encoding.UTF8.GetBytes(Tokens[rng.Next(Tokens.Length)]));
                    break;
                case 3 when json.Count > 0:
                    json.RemoveRange(at, Math.Min(json.Count - at, 1 + rng.Next(6)));
                    break;
                case 4 when json.Count > 0:
                    json.InsertRange(at, json.GetRange(at, Math.Min(json.Count - at, 1 + rng.Next(40))));
                    break;
                case 5:
                    // digits inside numbers: offsets and dimensions that no longer add up
                    int digit = json.FindIndex(at, b => b is >= (byte)'0' and <= (byte)'9');
                    if (digit >= 0)
                        json[digit] = (byte)('0' + rng.Next(10));
                    break;
                case 6:
                    if (rng.Next(2) == 0 && data.Count > 0)
                        data.RemoveRange(rng.Next(data.Count), 1);
                    else
                        data.Add((byte)rng.Next(256));
                    break;
                default:
                    json.AddRange(Encoding.UTF8.GetBytes(rng.Next(2) == 0 ? " " : "\0"));
                    break;
            }
        }
        ulong declared = rng.Next(10) switch
        {
            0 => (ulong)rng.NextInt64(),
            1 => (ulong)Math.Max(0, json.Count + rng.Next(-3, 4)),
            2 => (ulong)SafetensorsHeader.MaxHeaderBytes + (ulong)rng.Next(2),
            _ => (ulong)json.Count,
        };
        var file = new byte[8 + json.Count + data.Count];
        BinaryPrimitives.WriteUInt64LittleEndian(file, declared);
        json.CopyTo(file, 8);
        data.CopyTo(file, 8 + json.Count);
        return rng.Next(20) == 0 ? file[..rng.Next(file.Length + 1)] : file;
    }

    private static byte[] TokenSoup(Random rng)
    {
        var sb = new StringBuilder("{");
        int n = rng.Next(40);
        for (int i = 0; i < n; i++)
            sb.Append(Tokens[rng.Next(Tokens.Length)]);
        byte[] json = Encoding.UTF8.GetBytes(sb.ToString());
        var file = new byte[8 + json.Length + rng.Next(40)];
        BinaryPrimitives.WriteUInt64LittleEndian(file, (ulong)json.Length);
        json.CopyTo(file, 8);
        return file;
    }
}
