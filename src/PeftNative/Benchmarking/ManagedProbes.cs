using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using PeftNative.Backends.Managed;

namespace PeftNative.Benchmarking;

/// <summary>
/// The probes in managed code, for machines where libpeft_native does not load: the widest
/// hardware-accelerated vectors (Vector512, else Vector256, else Vector128), several threads
/// started together behind a barrier, wall time from the first start to the last finish.
/// </summary>
internal static unsafe class ManagedProbes
{
    private static float s_sink;

    /// <summary>Vector width used, in bits.</summary>
    public static int VectorBits =>
        Vector512.IsHardwareAccelerated ? 512 : Vector256.IsHardwareAccelerated ? 256 : 128;

    /// <summary>Best seconds of one in-place pass <c>w = w * 1 + 0</c> over the buffer, split across threads.</summary>
    public static double MemoryRmw(nint buffer, long bytes, int repeats, int threads)
    {
        long floats = bytes / sizeof(float);
        // Each thread's slice is a whole number of 64-byte lines.
        long per = (floats / threads) & ~15L;
        double best = double.MaxValue;
        float one = Volatile.Read(ref s_one), zero = one - one;
        for (int r = 0; r < repeats; r++)
        {
            double seconds = RunOnThreads(threads, t =>
            {
                long start = t * per;
                long count = t == threads - 1 ? floats - start : per;
                RmwSlice((float*)buffer + start, count, one, zero);
            });
            best = Math.Min(best, seconds);
        }
        return best;
    }

    private static float s_one = 1f;

    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static void RmwSlice(float* p, long count, float one, float zero)
    {
        long i = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            var m = Vector512.Create(one);
            var a = Vector512.Create(zero);
            for (; i <= count - 64; i += 64)
            {
                var v0 = Vector512.Load(p + i);
                var v1 = Vector512.Load(p + i + 16);
                var v2 = Vector512.Load(p + i + 32);
                var v3 = Vector512.Load(p + i + 48);
                Vector512.FusedMultiplyAdd(v0, m, a).Store(p + i);
                Vector512.FusedMultiplyAdd(v1, m, a).Store(p + i + 16);
                Vector512.FusedMultiplyAdd(v2, m, a).Store(p + i + 32);
                Vector512.FusedMultiplyAdd(v3, m, a).Store(p + i + 48);
            }
        }
        else if (Vector256.IsHardwareAccelerated)
        {
            var m = Vector256.Create(one);
            var a = Vector256.Create(zero);
            for (; i <= count - 32; i += 32)
            {
                var v0 = Vector256.Load(p + i);
                var v1 = Vector256.Load(p + i + 8);
                var v2 = Vector256.Load(p + i + 16);
                var v3 = Vector256.Load(p + i + 24);
                Vector256.FusedMultiplyAdd(v0, m, a).Store(p + i);
                Vector256.FusedMultiplyAdd(v1, m, a).Store(p + i + 8);
                Vector256.FusedMultiplyAdd(v2, m, a).Store(p + i + 16);
                Vector256.FusedMultiplyAdd(v3, m, a).Store(p + i + 24);
            }
        }
        else
        {
            var m = Vector128.Create(one);
            var a = Vector128.Create(zero);
            for (; i <= count - 4; i += 4)
                (Vector128.Load(p + i) * m + a).Store(p + i);
        }
        for (; i < count; i++)
            p[i] = p[i] * one + zero;
    }

    /// <summary>f32 FMA GFLOP/s: 12 independent FMA chains per thread in registers for about <paramref name="milliseconds"/>.</summary>
    public static double FmaF32(int milliseconds, int threads)
    {
        long[] flops = new long[threads];
        double seconds = RunOnThreads(threads, t => flops[t] = FmaLoop(milliseconds));
        return flops.Sum() / seconds / 1e9;
    }

    /// <summary>bf16 dot GFLOP/s: bf16 pairs widened to f32 (shift / mask) and fed to 8 FMA chains, L1-resident data.</summary>
    public static double Bf16Dot(int milliseconds, int threads)
    {
        long[] flops = new long[threads];
        double seconds = RunOnThreads(threads, t => flops[t] = Bf16Loop(milliseconds));
        return flops.Sum() / seconds / 1e9;
    }

    private const int Batch = 1 << 14;

    // The widest accelerated width, through the same vector primitives the managed kernels use.
    private static long FmaLoop(int milliseconds) =>
        Vector512.IsHardwareAccelerated ? FmaLoop<Simd512, Vector512<float>>(milliseconds)
        : Vector256.IsHardwareAccelerated ? FmaLoop<Simd256, Vector256<float>>(milliseconds)
        : FmaLoop<Simd128, Vector128<float>>(milliseconds);

    private static long FmaLoop<TS, TV>(int milliseconds)
        where TS : ISimd<TV>
        where TV : unmanaged
    {
        long deadline = Stopwatch.GetTimestamp() + milliseconds * Stopwatch.Frequency / 1000;
        long batches = 0;
        float acc = 0;
        do { acc += FmaChains<TS, TV>(Batch); batches++; } while (Stopwatch.GetTimestamp() < deadline);
        s_sink = acc;
        return batches * Batch * 12L * TS.Count * 2;
    }

    // 12 independent FMA chains: enough to cover the FMA latency on every core we know.
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static float FmaChains<TS, TV>(int iterations)
        where TS : ISimd<TV>
        where TV : unmanaged
    {
        TV m = TS.Broadcast(Volatile.Read(ref s_one) * 0.999999f);
        TV a = TS.Broadcast(1e-6f);
        TV c0 = TS.Broadcast(0.1f), c1 = TS.Broadcast(0.2f), c2 = TS.Broadcast(0.3f),
            c3 = TS.Broadcast(0.4f), c4 = TS.Broadcast(0.5f), c5 = TS.Broadcast(0.6f),
            c6 = TS.Broadcast(0.7f), c7 = TS.Broadcast(0.8f), c8 = TS.Broadcast(0.9f),
            c9 = TS.Broadcast(1.0f), c10 = TS.Broadcast(1.1f), c11 = TS.Broadcast(1.2f);
        for (int i = 0; i < iterations; i++)
        {
            c0 = TS.Fma(c0, m, a); c1 = TS.Fma(c1, m, a);
            c2 = TS.Fma(c2, m, a); c3 = TS.Fma(c3, m, a);
            c4 = TS.Fma(c4, m, a); c5 = TS.Fma(c5, m, a);
            c6 = TS.Fma(c6, m, a); c7 = TS.Fma(c7, m, a);
            c8 = TS.Fma(c8, m, a); c9 = TS.Fma(c9, m, a);
            c10 = TS.Fma(c10, m, a); c11 = TS.Fma(c11, m, a);
        }
        TV sum = TS.Add(TS.Add(TS.Add(TS.Add(c0, c1), TS.Add(c2, c3)), TS.Add(TS.Add(c4, c5), TS.Add(c6, c7))),
                        TS.Add(TS.Add(c8, c9), TS.Add(c10, c11)));
        float* lanes = stackalloc float[TS.Count];
        TS.StoreF32(lanes, sum);
        return lanes[0]; // only keeps the chains alive; the value is irrelevant
    }

    // 2 x 2048 bf16 pairs (16 KiB): stays in L1.
    private const int Bf16Words = 2048;

    private static long Bf16Loop(int milliseconds)
    {
        uint* x = (uint*)NativeMemoryAlloc(Bf16Words);
        uint* y = (uint*)NativeMemoryAlloc(Bf16Words);
        try
        {
            for (int i = 0; i < Bf16Words; i++)
            {
                x[i] = 0x3F803F80u; // two bf16 1.0
                y[i] = 0x3A833A83u; // two bf16 ~0.001
            }
            long deadline = Stopwatch.GetTimestamp() + milliseconds * Stopwatch.Frequency / 1000;
            long passes = 0;
            float acc = 0;
            do
            {
                acc += Vector512.IsHardwareAccelerated ? Bf16Pass512(x, y) : Bf16Pass256(x, y);
                passes++;
            } while (Stopwatch.GetTimestamp() < deadline);
            s_sink = acc;
            // 2 bf16 products per 32-bit word, 2 flops each.
            return passes * Bf16Words * 2L * 2;
        }
        finally
        {
            System.Runtime.InteropServices.NativeMemory.AlignedFree(x);
            System.Runtime.InteropServices.NativeMemory.AlignedFree(y);
        }
    }

    private static void* NativeMemoryAlloc(int words) =>
        System.Runtime.InteropServices.NativeMemory.AlignedAlloc((nuint)(words * sizeof(uint)), 64);

    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static float Bf16Pass256(uint* x, uint* y)
    {
        var hi = Vector256.Create(0xFFFF0000u);
        Vector256<float> e0 = default, o0 = default, e1 = default, o1 = default,
            e2 = default, o2 = default, e3 = default, o3 = default;
        for (int i = 0; i < Bf16Words; i += 32)
        {
            // One pair at a time keeps 8 accumulators + 5 temporaries in the 16 ymm registers.
            var a = Vector256.Load(x + i); var b = Vector256.Load(y + i);
            e0 = Vector256.FusedMultiplyAdd(Vector256.ShiftLeft(a, 16).AsSingle(), Vector256.ShiftLeft(b, 16).AsSingle(), e0);
            o0 = Vector256.FusedMultiplyAdd((a & hi).AsSingle(), (b & hi).AsSingle(), o0);
            a = Vector256.Load(x + i + 8); b = Vector256.Load(y + i + 8);
            e1 = Vector256.FusedMultiplyAdd(Vector256.ShiftLeft(a, 16).AsSingle(), Vector256.ShiftLeft(b, 16).AsSingle(), e1);
            o1 = Vector256.FusedMultiplyAdd((a & hi).AsSingle(), (b & hi).AsSingle(), o1);
            a = Vector256.Load(x + i + 16); b = Vector256.Load(y + i + 16);
            e2 = Vector256.FusedMultiplyAdd(Vector256.ShiftLeft(a, 16).AsSingle(), Vector256.ShiftLeft(b, 16).AsSingle(), e2);
            o2 = Vector256.FusedMultiplyAdd((a & hi).AsSingle(), (b & hi).AsSingle(), o2);
            a = Vector256.Load(x + i + 24); b = Vector256.Load(y + i + 24);
            e3 = Vector256.FusedMultiplyAdd(Vector256.ShiftLeft(a, 16).AsSingle(), Vector256.ShiftLeft(b, 16).AsSingle(), e3);
            o3 = Vector256.FusedMultiplyAdd((a & hi).AsSingle(), (b & hi).AsSingle(), o3);
        }
        return Vector256.Sum((e0 + o0) + (e1 + o1) + (e2 + o2) + (e3 + o3));
    }

    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static float Bf16Pass512(uint* x, uint* y)
    {
        var hi = Vector512.Create(0xFFFF0000u);
        Vector512<float> e0 = default, o0 = default, e1 = default, o1 = default;
        for (int i = 0; i < Bf16Words; i += 32)
        {
            var x0 = Vector512.Load(x + i); var y0 = Vector512.Load(y + i);
            var x1 = Vector512.Load(x + i + 16); var y1 = Vector512.Load(y + i + 16);
            e0 = Vector512.FusedMultiplyAdd(Vector512.ShiftLeft(x0, 16).AsSingle(), Vector512.ShiftLeft(y0, 16).AsSingle(), e0);
            o0 = Vector512.FusedMultiplyAdd((x0 & hi).AsSingle(), (y0 & hi).AsSingle(), o0);
            e1 = Vector512.FusedMultiplyAdd(Vector512.ShiftLeft(x1, 16).AsSingle(), Vector512.ShiftLeft(y1, 16).AsSingle(), e1);
            o1 = Vector512.FusedMultiplyAdd((x1 & hi).AsSingle(), (y1 & hi).AsSingle(), o1);
        }
        return Vector512.Sum((e0 + o0) + (e1 + o1));
    }

    /// <summary>
    /// Runs <paramref name="body"/>(t) for t in [0, threads) on dedicated threads released together
    /// by a barrier; returns the seconds from the first start to the last finish.
    /// </summary>
    public static double RunOnThreads(int threads, Action<int> body)
    {
        if (threads == 1)
        {
            long t0 = Stopwatch.GetTimestamp();
            body(0);
            return Math.Max(Stopwatch.GetElapsedTime(t0).TotalSeconds, 1e-9);
        }
        long[] starts = new long[threads], ends = new long[threads];
        using var barrier = new Barrier(threads);
        var workers = new Thread[threads];
        for (int t = 0; t < threads; t++)
        {
            int id = t;
            workers[t] = new Thread(() =>
            {
                barrier.SignalAndWait();
                starts[id] = Stopwatch.GetTimestamp();
                body(id);
                ends[id] = Stopwatch.GetTimestamp();
            }) { IsBackground = true, Name = $"peftnative-probe-{id}" };
            workers[t].Start();
        }
        foreach (var w in workers)
            w.Join();
        long ticks = ends.Max() - starts.Min();
        return Math.Max((double)ticks / Stopwatch.Frequency, 1e-9);
    }
}
