using System.Globalization;
using PeftNative.Backends.Cuda;
using PeftNative.Interop;

namespace PeftNative.GpuChecker;

/// <summary>One timed kernel: median milliseconds over the repetitions and the bytes it must move.</summary>
internal sealed record TimingRow(string Kernel, string DType, string Shape, double Milliseconds, double Bytes)
{
    public double GigabytesPerSecond => Bytes / (Milliseconds * 1e-3) / 1e9;
}

/// <summary>
/// Times each kernel on device-resident data with CUDA events (median of 20 after 3 warm-ups) and
/// sets its bandwidth (the bytes it must read and write, over the time) against a device-to-device
/// copy of the W size measured the same way in the same process. Shapes: 8192 x 8192 W, r = 16 and
/// 64 (the issue's acceptance case is the bf16 merge at >= 85 % of the copy).
/// </summary>
internal static unsafe class TimingSuite
{
    private const long Side = 8192;
    private const long N = Side * Side;
    private const int Warmups = 3;
    private const int Repeats = 20;

    public static List<TimingRow> Run(TextWriter log)
    {
        var rows = new List<TimingRow>();
        using var stream = CudaStreamHandle.Create();
        nint s = stream.DangerousGetHandle();
        using var source = RandomF32(N, s);
        using var w = CudaBuffer.Allocate(N * 4);
        using var x0 = CudaBuffer.Allocate(N * 4);
        using var x1 = CudaBuffer.Allocate(N * 4);
        using var output = CudaBuffer.Allocate(N * 4);
        using var b = CudaBuffer.Allocate(Side * 64 * 4);
        using var a = CudaBuffer.Allocate(Side * 64 * 4);
        using var l = CudaBuffer.Allocate(Side * 4);
        // Kernel arguments that live in host memory, outside the lambdas that launch.
        NativeLowRankFactor* factor = stackalloc NativeLowRankFactor[1];
        nint* inputs = stackalloc nint[2];
        float* weights = stackalloc float[] { 0.7f, 0.3f };

        var copy = Time("copy (d2d probe)", "bf16", $"{Side}x{Side}", 2.0 * N * 2, s,
            () => CudaNativeMethods.pn_cuda_memcpy_d2d(x0.Pointer, w.Pointer, N * 2, s));
        rows.Add(copy);

        foreach (var (wType, fType, rank, fifo) in new[]
        {
            (NativeDType.BF16, NativeDType.BF16, 16, false), (NativeDType.BF16, NativeDType.BF16, 64, false),
            (NativeDType.BF16, NativeDType.BF16, 64, true), (NativeDType.F16, NativeDType.F16, 64, false),
            (NativeDType.F32, NativeDType.F32, 16, false), (NativeDType.F32, NativeDType.BF16, 64, false),
        })
        {
            Fill(source, w, wType, N, s);
            Fill(source, b, fType, Side * rank, s);
            Fill(source, a, fType, Side * rank, s);
            *factor = new NativeLowRankFactor { B = (void*)b.Pointer, A = (void*)a.Pointer, DType = (int)fType, Rank = rank, Scale = 1e-3f };
            string label = $"lowrank_merge r{rank}{(fifo ? " fifo" : "")}{(fType != wType ? $" ({Name(fType)} factors)" : "")}";
            rows.Add(Time(label, Name(wType), $"{Side}x{Side}", 2.0 * N * Size(wType), s,
                () => CudaNativeMethods.pn_cuda_lowrank_merge((int)wType, w.Pointer, Side, Side, fifo ? 1 : 0, 1, factor, s)));
        }

        foreach (var dt in new[] { NativeDType.BF16, NativeDType.F16, NativeDType.F32 })
        {
            Fill(source, x0, dt, N, s);
            Fill(source, x1, dt, N, s);
            inputs[0] = x0.Pointer;
            inputs[1] = x1.Pointer;
            rows.Add(Time("affine k=2", Name(dt), $"{Side}x{Side}", 3.0 * N * Size(dt), s,
                () => CudaNativeMethods.pn_cuda_affine((int)dt, (int)dt, N, 2, inputs, weights, 0f, output.Pointer, s)));
        }

        Fill(source, w, NativeDType.BF16, N, s);
        Fill(source, l, NativeDType.BF16, Side, s);
        rows.Add(Time("scale_rows", "bf16", $"{Side}x{Side}", 2.0 * N * 2, s,
            () => CudaNativeMethods.pn_cuda_scale_rows((int)NativeDType.BF16, w.Pointer, Side, Side, (int)NativeDType.BF16, l.Pointer, 0, s)));
        rows.Add(Time("scale_cols", "bf16", $"{Side}x{Side}", 2.0 * N * 2, s,
            () => CudaNativeMethods.pn_cuda_scale_cols((int)NativeDType.BF16, w.Pointer, Side, Side, (int)NativeDType.BF16, l.Pointer, 0, s)));
        rows.Add(Time("convert", "f32->bf16", $"{N}", N * 6.0, s,
            () => CudaNativeMethods.pn_cuda_convert((int)NativeDType.F32, source.Pointer, (int)NativeDType.BF16, output.Pointer, N, s)));
        rows.Add(Time("convert", "bf16->f32", $"{N}", N * 6.0, s,
            () => CudaNativeMethods.pn_cuda_convert((int)NativeDType.BF16, w.Pointer, (int)NativeDType.F32, output.Pointer, N, s)));

        double copyRate = copy.GigabytesPerSecond;
        log.WriteLine();
        log.WriteLine($"{"kernel",-40} {"dtype",-10} {"shape",-10} {"ms",9} {"GB/s",8} {"% copy",7}");
        foreach (var r in rows)
            log.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{r.Kernel,-40} {r.DType,-10} {r.Shape,-10} {r.Milliseconds,9:F4} {r.GigabytesPerSecond,8:F1} {100 * r.GigabytesPerSecond / copyRate,6:F1}%"));
        return rows;
    }

    /// <summary>Tab-separated rows for bench/gpu/table.py: device, kernel, dtype, shape, ms, GB/s, % of copy.</summary>
    public static void WriteTsv(string path, string device, List<TimingRow> rows)
    {
        double copyRate = rows[0].GigabytesPerSecond;
        var lines = rows.Select(r => string.Create(CultureInfo.InvariantCulture,
            $"{device}\t{r.Kernel}\t{r.DType}\t{r.Shape}\t{r.Milliseconds:F5}\t{r.GigabytesPerSecond:F2}\t{100 * r.GigabytesPerSecond / copyRate:F2}"));
        File.WriteAllLines(path, lines.Prepend("device\tkernel\tdtype\tshape\tms\tgbps\tpct_copy"));
    }

    private static TimingRow Time(string kernel, string dtype, string shape, double bytes, nint stream, Func<NativeStatus> launch)
    {
        using var start = CudaEventHandle.Create();
        using var end = CudaEventHandle.Create();
        var times = new List<double>();
        for (int i = 0; i < Warmups + Repeats; i++)
        {
            CudaLibraryLoader.ThrowIfFailed(CudaNativeMethods.pn_cuda_event_record(start.DangerousGetHandle(), stream));
            CudaLibraryLoader.ThrowIfFailed(launch());
            CudaLibraryLoader.ThrowIfFailed(CudaNativeMethods.pn_cuda_event_record(end.DangerousGetHandle(), stream));
            float ms;
            CudaLibraryLoader.ThrowIfFailed(CudaNativeMethods.pn_cuda_event_elapsed_ms(start.DangerousGetHandle(), end.DangerousGetHandle(), &ms));
            if (i >= Warmups)
                times.Add(ms);
        }
        times.Sort();
        return new TimingRow(kernel, dtype, shape, times[times.Count / 2], bytes);
    }

    // Values in [-1, 1) from a fixed LCG: cheap to make for 67M elements, never NaN or Inf.
    private static CudaBuffer RandomF32(long n, nint stream)
    {
        using var host = Tensor.Allocate(DType.F32, n);
        var span = host.AsSpan<float>();
        uint state = 0x9E3779B9u;
        for (int i = 0; i < span.Length; i++)
        {
            state = state * 1664525u + 1013904223u;
            span[i] = (state >> 8) * (2.0f / (1 << 24)) - 1.0f;
        }
        var buffer = CudaBuffer.Allocate(n * 4);
        CudaLibraryLoader.ThrowIfFailed(CudaNativeMethods.pn_cuda_memcpy_h2d(buffer.Pointer, (void*)host.Pointer, n * 4, stream));
        return buffer;
    }

    private static void Fill(CudaBuffer source, CudaBuffer target, NativeDType dtype, long n, nint stream)
    {
        CudaLibraryLoader.ThrowIfFailed(CudaNativeMethods.pn_cuda_convert((int)NativeDType.F32, source.Pointer, (int)dtype, target.Pointer, n, stream));
        CudaLibraryLoader.ThrowIfFailed(CudaNativeMethods.pn_cuda_stream_synchronize(stream));
    }

    private static string Name(NativeDType d) => d.ToString().ToLowerInvariant();

    private static int Size(NativeDType d) => d == NativeDType.F32 ? 4 : 2;
}
