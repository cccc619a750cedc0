using System.Globalization;
using BenchmarkDotNet.Attributes;
using PeftNative.SafeTensors;

namespace PeftNative.Benchmarks;

/// <summary>
/// Where the I/O suites put their files: <c>PEFTNATIVE_BENCH_DIR</c> when set (the file system under
/// test), else the system temporary directory. Each suite makes and removes its own folder there.
/// </summary>
internal static class BenchDirectory
{
    public static string Create(string prefix)
    {
        string parent = Environment.GetEnvironmentVariable("PEFTNATIVE_BENCH_DIR") is { Length: > 0 } dir ? dir : Path.GetTempPath();
        string path = Path.Combine(parent, prefix + Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(path);
        return path;
    }

    public static void Remove(string? path)
    {
        if (path is not null && Directory.Exists(path))
            Directory.Delete(path, recursive: true);
    }
}

/// <summary>
/// Writing 1 GiB of bf16 tensors from memory (7 tensors: 1 x 256 MiB, 6 x 128 MiB) with
/// <see cref="SafetensorsWriter"/> against the baseline: the same bytes written by one plain
/// FileStream (same 1 MiB buffer) to a new file in the same directory. Both skip fsync (page-cache
/// bandwidth); each iteration writes a new file and the file is deleted after it, untimed. The
/// acceptance target is Write_Safetensors at no less than 0.7 of Write_PlainFileStream's GB/s.
/// </summary>
[Config(typeof(KernelBenchmarkConfig))]
public class SafetensorsWriteBenchmarks : IBytesPerOperation
{
    /// <summary>Bytes of tensor data per operation.</summary>
    public const long TotalBytes = 1L << 30;

    private readonly List<Tensor> _tensors = [];
    private List<SafetensorsEntry> _entries = [];
    private string _dir = "";
    private string _target = "";
    private string _plain = "";
    private static readonly SafetensorsWriteOptions Options = new() { Durable = false, RemoveStaleFiles = false };

    /// <summary>Bytes one operation writes (the GB/s column).</summary>
    public long BytesPerOperation => TotalBytes;

    /// <summary>Allocates and fills the tensors (every page touched) and the scratch folder.</summary>
    [GlobalSetup]
    public void Setup()
    {
        _dir = BenchDirectory.Create("peftnative-bench-write-");
        _target = Path.Combine(_dir, "model.safetensors");
        _plain = Path.Combine(_dir, "plain.bin");
        long[][] shapes = [[8192, 16384], [4096, 16384], [4096, 16384], [4096, 16384], [4096, 16384], [4096, 16384], [4096, 16384]];
        foreach (var shape in shapes)
        {
            var t = Tensor.Allocate(DType.BF16, shape);
            t.AsSpan<ushort>().Fill(0x3C00);
            _tensors.Add(t);
        }
        if (_tensors.Sum(t => t.ByteLength) != TotalBytes)
            throw new InvalidOperationException("the shapes must add up to 1 GiB");
        _entries = _tensors.Select((t, i) => SafetensorsEntry.FromTensor(string.Create(CultureInfo.InvariantCulture, $"model.layers.{i}.mlp.weight"), t)).ToList();
    }

    /// <summary>The writer: header, temporary file, data, rename.</summary>
    [Benchmark]
    public SafetensorsWriteResult Write_Safetensors() => SafetensorsWriter.Write(_target, _entries, null, Options);

    /// <summary>The baseline: the same bytes through one FileStream.</summary>
    [Benchmark(Baseline = true)]
    public unsafe long Write_PlainFileStream()
    {
        using var file = new FileStream(_plain, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 20);
        foreach (var t in _tensors)
            file.Write(new ReadOnlySpan<byte>((void*)t.Pointer, checked((int)t.ByteLength)));
        file.Flush(flushToDisk: false);
        return file.Length;
    }

    /// <summary>Deletes what the iteration wrote (untimed), so every write makes a new file.</summary>
    [IterationCleanup]
    public void DeleteOutput()
    {
        File.Delete(_target);
        File.Delete(_plain);
    }

    /// <summary>Frees the tensors and removes the folder.</summary>
    [GlobalCleanup]
    public void Cleanup()
    {
        foreach (var t in _tensors)
            t.Dispose();
        _tensors.Clear();
        BenchDirectory.Remove(_dir);
    }
}

/// <summary>
/// SafetensorsFile.Open + Tensors + Dispose of a small (1 MiB, 4 tensors) and a large (2 GiB, 256
/// tensors) file, both written by <see cref="SafetensorsWriter"/> in the global setup. The target:
/// under 10 ms whatever the size (opening validates the header and maps the file; it reads no data).
/// </summary>
[Config(typeof(KernelBenchmarkConfig))]
public class SafetensorsOpenBenchmarks
{
    /// <summary>Which file: "1MiB" or "2GiB".</summary>
    [Params("1MiB", "2GiB")]
    public string Size { get; set; } = "1MiB";

    private string _dir = "";
    private string _path = "";

    /// <summary>Writes the file (the 2 GiB one from a generator, 1 MiB at a time).</summary>
    [GlobalSetup]
    public void Setup()
    {
        _dir = BenchDirectory.Create("peftnative-bench-open-");
        _path = Path.Combine(_dir, "model.safetensors");
        (long bytes, int count) = Size == "2GiB" ? (2L << 30, 256) : (1L << 20, 4);
        long per = bytes / count;
        var entries = Enumerable.Range(0, count).Select(i => SafetensorsEntry.FromWriter(
            string.Create(CultureInfo.InvariantCulture, $"model.layers.{i / 7}.{"qkvogud"[i % 7]}_proj.weight"),
            DType.BF16, [per / 2], (s, ct) =>
            {
                var chunk = new byte[(int)Math.Min(per, 1 << 20)];
                chunk.AsSpan().Fill(0x3C);
                for (long done = 0; done < per; done += chunk.Length)
                    s.Write(chunk, 0, (int)Math.Min(chunk.Length, per - done));
            })).ToList();
        SafetensorsWriter.Write(_path, entries, new Dictionary<string, string> { ["format"] = "pt" }, new SafetensorsWriteOptions { Durable = false });
        try
        {
            // A reader that fails would abort the run without [GlobalCleanup]: fail here, without leaving 2 GiB behind.
            Open_Safetensors();
        }
        catch
        {
            Cleanup();
            throw;
        }
    }

    /// <summary>Open, list, close.</summary>
    [Benchmark]
    public int Open_Safetensors()
    {
        using var file = SafetensorsFile.Open(_path);
        return file.Tensors.Count;
    }

    /// <summary>Removes the folder.</summary>
    [GlobalCleanup]
    public void Cleanup() => BenchDirectory.Remove(_dir);
}
