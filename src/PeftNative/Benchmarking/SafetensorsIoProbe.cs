using System.Diagnostics;
using System.Globalization;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;
using PeftNative.SafeTensors;

namespace PeftNative.Benchmarking;

/// <summary>Settings of one <see cref="SafetensorsIoProbe.Measure"/>.</summary>
public sealed record SafetensorsIoProbeOptions
{
    /// <summary>Directory to measure in (its file system is what is measured); null: the system temporary directory. A scratch folder is made inside and removed.</summary>
    public string? Directory { get; init; }

    /// <summary>Bytes of tensor data per write (default 1 GiB).</summary>
    public long WriteBytes { get; init; } = 1L << 30;

    /// <summary>Tensors the writer splits <see cref="WriteBytes"/> into (default 7).</summary>
    public int WriteTensors { get; init; } = 7;

    /// <summary>Timed writes of each kind; the best counts (default 3).</summary>
    public int WriteRepeats { get; init; } = 3;

    /// <summary>fsync both writes before the clock stops (default false: page-cache bandwidth).</summary>
    public bool Durable { get; init; }

    /// <summary>Data bytes of the small file opened (default 1 MiB).</summary>
    public long SmallFileBytes { get; init; } = 1L << 20;

    /// <summary>Tensors of the small file (default 256, as many as the large file, so the two opens differ only in data size).</summary>
    public int SmallFileTensors { get; init; } = 256;

    /// <summary>Data bytes of the large file opened (default 2 GiB; the file is sparse: opening reads only its header).</summary>
    public long LargeFileBytes { get; init; } = 2L << 30;

    /// <summary>Tensors of the large file (default 256, about a 1B-parameter model's count).</summary>
    public int LargeFileTensors { get; init; } = 256;

    /// <summary>Timed opens of each file after one untimed; the best counts (default 20).</summary>
    public int OpenRepeats { get; init; } = 20;

    /// <summary>A configuration that runs in well under a second (tests).</summary>
    public static SafetensorsIoProbeOptions Tiny { get; } = new()
    {
        WriteBytes = 8L << 20,
        WriteRepeats = 2,
        SmallFileBytes = 64L << 10,
        LargeFileBytes = 64L << 20,
        SmallFileTensors = 16,
        LargeFileTensors = 16,
        OpenRepeats = 3,
    };
}

/// <summary>
/// What <see cref="SafetensorsIoProbe.Measure"/> found. The acceptance targets it serves: the
/// writer at no less than 0.7 of the plain write bandwidth measured in the same run
/// (<see cref="WriteRatio"/>), and opening and indexing a file in under 10 ms whatever its size
/// (<see cref="OpenLargeMicroseconds"/> against <see cref="OpenSmallMicroseconds"/>).
/// </summary>
public sealed record SafetensorsIoProbeResult
{
    /// <summary>Bytes of tensor data per write.</summary>
    [JsonPropertyName("write_bytes")]
    public required long WriteBytes { get; init; }

    /// <summary>Best plain FileStream write of <see cref="WriteBytes"/> to a new file (1 MiB buffer), GB/s (1e9 bytes).</summary>
    [JsonPropertyName("plain_write_gbps")]
    public required double PlainWriteGbps { get; init; }

    /// <summary>Best <see cref="SafetensorsWriter.Write"/> of the same bytes (header, temporary file and rename included), GB/s of tensor data.</summary>
    [JsonPropertyName("writer_gbps")]
    public required double WriterGbps { get; init; }

    /// <summary><see cref="WriterGbps"/> / <see cref="PlainWriteGbps"/>.</summary>
    [JsonPropertyName("write_ratio")]
    public required double WriteRatio { get; init; }

    /// <summary>Best SafetensorsFile.Open + Tensors + Dispose of the small file, microseconds; null when opening failed (<see cref="Notes"/> says why).</summary>
    [JsonPropertyName("open_small_us")]
    public double? OpenSmallMicroseconds { get; init; }

    /// <summary>The same for the large file.</summary>
    [JsonPropertyName("open_large_us")]
    public double? OpenLargeMicroseconds { get; init; }

    /// <summary>Data bytes of the small file.</summary>
    [JsonPropertyName("small_file_bytes")]
    public required long SmallFileBytes { get; init; }

    /// <summary>Data bytes of the large file.</summary>
    [JsonPropertyName("large_file_bytes")]
    public required long LargeFileBytes { get; init; }

    /// <summary>Tensors of the large file.</summary>
    [JsonPropertyName("large_file_tensors")]
    public required int LargeFileTensors { get; init; }

    /// <summary>True when both writes were fsynced inside the timing.</summary>
    [JsonPropertyName("durable")]
    public required bool Durable { get; init; }

    /// <summary>Directory measured in.</summary>
    [JsonPropertyName("directory")]
    public required string Directory { get; init; }

    /// <summary>Remarks: opens that failed, and how the numbers were taken.</summary>
    [JsonPropertyName("notes")]
    public IReadOnlyList<string> Notes { get; init; } = [];

    /// <summary>The result as JSON (snake_case names).</summary>
    public string ToJson(bool indented = true) =>
        JsonSerializer.Serialize(this, indented ? SafetensorsIoJsonContext.Indented.SafetensorsIoProbeResult : SafetensorsIoJsonContext.Compact.SafetensorsIoProbeResult);
}

/// <summary>
/// Measures, in one run, the page-cache write bandwidth of the machine (a plain FileStream writing
/// N bytes from memory to a new file), the safetensors writer's bandwidth on the same N bytes in
/// the same directory, their ratio, and the time to open and index a small and a large safetensors
/// file. Writes alternate between the two kinds and each keeps its best run, so a busy moment
/// lowers neither more than the other. Every file is made in a scratch folder that is removed at
/// the end, whatever happens.
/// </summary>
public static class SafetensorsIoProbe
{
    /// <summary>Runs the measurement.</summary>
    /// <exception cref="ArgumentException">A size or count below 1, or a directory that does not exist.</exception>
    /// <exception cref="OperationCanceledException">Cancelled (the scratch folder is removed).</exception>
    public static SafetensorsIoProbeResult Measure(SafetensorsIoProbeOptions? options = null, CancellationToken cancellationToken = default)
    {
        options ??= new SafetensorsIoProbeOptions();
        ArgumentOutOfRangeException.ThrowIfLessThan(options.WriteBytes, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(options.WriteTensors, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(options.WriteRepeats, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(options.SmallFileBytes, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(options.SmallFileTensors, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(options.LargeFileBytes, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(options.LargeFileTensors, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(options.OpenRepeats, 1);
        string parent = Path.GetFullPath(options.Directory ?? Path.GetTempPath());
        if (!System.IO.Directory.Exists(parent))
            throw new ArgumentException($"directory {parent} does not exist", nameof(options));

        string scratch = Path.Combine(parent, "peftnative-io-probe-" + Guid.NewGuid().ToString("N")[..12]);
        System.IO.Directory.CreateDirectory(scratch);
        var notes = new List<string>();
        try
        {
            var (plain, writer) = MeasureWrites(scratch, options, cancellationToken);
            double? small = MeasureOpen(scratch, "small", options.SmallFileBytes, options.SmallFileTensors, sparse: false, options.OpenRepeats, notes, cancellationToken);
            double? large = MeasureOpen(scratch, "large", options.LargeFileBytes, options.LargeFileTensors, sparse: true, options.OpenRepeats, notes, cancellationToken);
            notes.Add(string.Create(CultureInfo.InvariantCulture,
                $"writes: best of {options.WriteRepeats} each, alternating, {options.WriteTensors} tensors, new file each time (deleted untimed){(options.Durable ? ", fsync included" : ", no fsync (page cache)")}; opens: best of {options.OpenRepeats} after one untimed, the large file sparse"));
            return new SafetensorsIoProbeResult
            {
                WriteBytes = options.WriteBytes,
                PlainWriteGbps = Round(plain),
                WriterGbps = Round(writer),
                WriteRatio = BandwidthHarness.RoundSignificant(writer / plain, 3),
                OpenSmallMicroseconds = small is { } s ? Round(s) : null,
                OpenLargeMicroseconds = large is { } l ? Round(l) : null,
                SmallFileBytes = options.SmallFileBytes,
                LargeFileBytes = options.LargeFileBytes,
                LargeFileTensors = options.LargeFileTensors,
                Durable = options.Durable,
                Directory = parent,
                Notes = notes,
            };
        }
        finally
        {
            try
            {
                System.IO.Directory.Delete(scratch, recursive: true);
            }
            catch (IOException)
            {
                // A file still held by someone else: nothing more can be done here.
            }
        }
    }

    private static (double PlainGbps, double WriterGbps) MeasureWrites(string scratch, SafetensorsIoProbeOptions options, CancellationToken cancellationToken)
    {
        long total = options.WriteBytes;
        using var source = Tensor.Allocate(DType.U8, total);
        FillPattern(source);
        var pieces = new List<Tensor>();
        try
        {
            long per = total / options.WriteTensors;
            for (int i = 0; i < options.WriteTensors; i++)
            {
                long begin = i * per;
                long length = i == options.WriteTensors - 1 ? total - begin : per;
                pieces.Add(Tensor.FromPointer(source.Pointer + (nint)begin, DType.U8, [length]));
            }
            var entries = pieces.Select((t, i) => SafetensorsEntry.FromTensor(string.Create(CultureInfo.InvariantCulture, $"model.layers.{i}.weight"), t)).ToList();
            var writeOptions = new SafetensorsWriteOptions { Durable = options.Durable, RemoveStaleFiles = false };
            string plainPath = Path.Combine(scratch, "plain.bin");
            string writerPath = Path.Combine(scratch, "writer.safetensors");

            double bestPlain = double.MaxValue, bestWriter = double.MaxValue;
            for (int r = 0; r < options.WriteRepeats; r++)
            {
                for (int k = 0; k < 2; k++)
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    bool plainTurn = (k == 0) == (r % 2 == 0);
                    long t0 = Stopwatch.GetTimestamp();
                    if (plainTurn)
                        PlainWrite(plainPath, pieces, options.Durable);
                    else
                        SafetensorsWriter.Write(writerPath, entries, null, writeOptions, cancellationToken);
                    double seconds = Math.Max(Stopwatch.GetElapsedTime(t0).TotalSeconds, 1e-9);
                    File.Delete(plainTurn ? plainPath : writerPath);
                    if (plainTurn)
                        bestPlain = Math.Min(bestPlain, seconds);
                    else
                        bestWriter = Math.Min(bestWriter, seconds);
                }
            }
            return (total / bestPlain / 1e9, total / bestWriter / 1e9);
        }
        finally
        {
            foreach (var p in pieces)
                p.Dispose();
        }
    }

    /// <summary>The baseline: the same bytes, a new file, one FileStream with the writer's buffer size.</summary>
    private static unsafe void PlainWrite(string path, List<Tensor> pieces, bool durable)
    {
        using var file = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.None, AtomicFileSet.BufferBytes);
        foreach (var t in pieces)
        {
            for (long done = 0; done < t.ByteLength;)
            {
                int n = (int)Math.Min(t.ByteLength - done, 1 << 30);
                file.Write(new ReadOnlySpan<byte>((byte*)t.Pointer + done, n));
                done += n;
            }
        }
        file.Flush(flushToDisk: durable);
    }

    private static double? MeasureOpen(string scratch, string name, long bytes, int tensors, bool sparse, int repeats, List<string> notes, CancellationToken cancellationToken)
    {
        string path = Path.Combine(scratch, name + ".safetensors");
        try
        {
            CreateFile(path, bytes, tensors, sparse);
        }
        catch (IOException e)
        {
            notes.Add($"open {name}: the {bytes}-byte file could not be made ({e.Message})");
            return null;
        }
        double best = double.MaxValue;
        for (int r = 0; r <= repeats; r++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            long t0 = Stopwatch.GetTimestamp();
            try
            {
                using var file = SafetensorsFile.Open(path);
                if (file.Tensors.Count != tensors)
                    throw new InvalidDataException($"{file.Tensors.Count} tensors listed, {tensors} written");
            }
#pragma warning disable CA1031 // a reader that fails must not stop the write measurement: report it and go on
            catch (Exception e)
#pragma warning restore CA1031
            {
                notes.Add($"open {name}: not measured ({e.GetType().Name}: {e.Message})");
                return null;
            }
            double us = Stopwatch.GetElapsedTime(t0).TotalMicroseconds;
            if (r > 0)
                best = Math.Min(best, us);
        }
        return best;
    }

    /// <summary>
    /// A valid safetensors file of <paramref name="tensors"/> BF16 tensors holding <paramref name="bytes"/>
    /// of data: written by the writer (small) or as header + a sparse data section (large: opening
    /// reads the header only, so the bytes behind it need not be written).
    /// </summary>
    private static void CreateFile(string path, long bytes, int tensors, bool sparse)
    {
        long per = Math.Max(2, bytes / tensors / 2 * 2);
        var entries = new List<SafetensorsEntry>(tensors);
        for (int i = 0; i < tensors; i++)
        {
            string tensorName = string.Create(CultureInfo.InvariantCulture, $"model.layers.{i / 7}.{"qkvogud"[i % 7]}_proj.weight");
            entries.Add(SafetensorsEntry.FromWriter(tensorName, DType.BF16, [per / 2], (s, ct) => Fill(s, per, ct)));
        }
        if (!sparse)
        {
            SafetensorsWriter.Write(path, entries, new Dictionary<string, string> { ["format"] = "pt" },
                new SafetensorsWriteOptions { Durable = false, RemoveStaleFiles = false });
            return;
        }
        entries.Sort(SafetensorsShardPlan.FileOrder);
        var shard = SafetensorsShard.Build(path, entries, new Dictionary<string, string> { ["format"] = "pt" });
        using var file = new FileStream(path, FileMode.CreateNew, FileAccess.Write);
        Span<byte> prefix = stackalloc byte[8];
        System.Buffers.Binary.BinaryPrimitives.WriteUInt64LittleEndian(prefix, (ulong)shard.Header.Length);
        file.Write(prefix);
        file.Write(shard.Header);
        file.SetLength(shard.FileBytes);
    }

    private static void Fill(Stream destination, long bytes, CancellationToken cancellationToken)
    {
        var chunk = new byte[(int)Math.Min(bytes, 1 << 20)];
        chunk.AsSpan().Fill(0x3C);
        for (long done = 0; done < bytes;)
        {
            cancellationToken.ThrowIfCancellationRequested();
            int n = (int)Math.Min(bytes - done, chunk.Length);
            destination.Write(chunk.AsSpan(0, n));
            done += n;
        }
    }

    private static unsafe void FillPattern(Tensor t)
    {
        // Non-zero, page by page: every page is touched before anything is timed.
        byte* p = (byte*)t.Pointer;
        for (long i = 0; i < t.ByteLength; i += 4096)
            new Span<byte>(p + i, (int)Math.Min(4096, t.ByteLength - i)).Fill((byte)(1 + (i >> 12) % 251));
    }

    private static double Round(double value) => BandwidthHarness.RoundSignificant(value, 4);
}

[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower,
    DefaultIgnoreCondition = JsonIgnoreCondition.Never,
    NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals)]
[JsonSerializable(typeof(SafetensorsIoProbeResult))]
internal sealed partial class SafetensorsIoJsonContext : JsonSerializerContext
{
    public static SafetensorsIoJsonContext Compact { get; } = new(CreateOptions(indented: false));

    public static SafetensorsIoJsonContext Indented { get; } = new(CreateOptions(indented: true));

    private static JsonSerializerOptions CreateOptions(bool indented) => new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        WriteIndented = indented,
    };
}
