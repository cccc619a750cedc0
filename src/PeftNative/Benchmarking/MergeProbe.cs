using System.Diagnostics;
using PeftNative.Adapters;
using PeftNative.Merging;
using PeftNative.SafeTensors;

namespace PeftNative.Benchmarking;

/// <summary>
/// Measures a whole-model merge against the machine's own floor, in one run: a synthetic
/// LLaMA-shaped bf16 model is written to a scratch directory (see <see cref="MergeProbeOptions"/>;
/// default 1.1B parameters), then a copy probe reads every model file through short-lived mapped
/// views, as the merge does, and writes the same bytes to new files (fsynced when the merge is),
/// then <see cref="ModelMerger.Merge"/> merges a rank-16 LoRA on all seven projections of every
/// layer, then the copy probe runs again. The probe's best time is the floor; the ratio
/// merge / probe and the merge's peak resident memory are the figures. Everything written is
/// deleted at the end.
/// </summary>
public static partial class MergeProbe
{
    private static readonly string[] Projections = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"];

    /// <summary>Runs the measurement.</summary>
    /// <exception cref="ArgumentException">A bad backend name.</exception>
    public static MergeProbeResult Measure(MergeProbeOptions? options = null)
    {
        options ??= new MergeProbeOptions();
        var progress = options.Progress ?? (_ => { });
        string scratch = Path.Combine(options.Directory ?? Path.GetTempPath(), $"peftnative-merge-probe-{Environment.ProcessId}");
        System.IO.Directory.CreateDirectory(scratch);
        try
        {
            var clock = Stopwatch.StartNew();
            string model = Path.Combine(scratch, "model");
            progress($"writing a synthetic {options.Parameters / 1e9:F2}B-parameter bf16 model to {model}");
            long modelBytes = SyntheticModel.Write(model, options);
            using var adapter = SyntheticModel.Adapter(options);
            double setup = clock.Elapsed.TotalSeconds;

            var probes = new List<double>();
            progress("copy probe");
            probes.Add(CopyProbe(model, Path.Combine(scratch, "probe"), options.Durable));
            progress("merge");
            string output = Path.Combine(scratch, "merged");
            var result = ModelMerger.Merge(model, adapter, output, new MergeOptions
            {
                Backend = options.Backend,
                Threads = options.Threads,
                Durable = options.Durable,
                Diagnostics = _ => { },
            });
            System.IO.Directory.Delete(output, recursive: true);
            progress("copy probe again");
            probes.Add(CopyProbe(model, Path.Combine(scratch, "probe"), options.Durable));

            string backend;
            using (var b = Backends.KernelBackendFactory.Create(options.Backend, options.Threads, _ => { }))
                backend = b.Description.Length > 0 ? $"{b.Name} ({b.Description})" : b.Name;
            return new MergeProbeResult
            {
                Parameters = options.Parameters,
                ModelBytes = modelBytes,
                TensorsTouched = result.TensorsTouched,
                ProbeSeconds = probes.Min(),
                ProbeReadings = probes,
                MergeSeconds = result.Seconds,
                MergePeakRssBytes = result.PeakMemoryBytes,
                Backend = backend,
                Durable = options.Durable,
                SetupSeconds = setup,
                Notes =
                [
                    "merge time is ModelMerger.Merge's own wall time (open, check, write every tensor, side files, fsync, rename)",
                    "peak RSS is the kernel's high-water mark (VmHWM) reset when the merge starts, or the sampler's reading where the reset is refused",
                ],
            };
        }
        finally
        {
            try
            {
                System.IO.Directory.Delete(scratch, recursive: true);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                progress($"could not remove {scratch}: {e.Message}");
            }
        }
    }

    /// <summary>Reads every model file through mapped views and writes the same bytes to new files; returns seconds.</summary>
    private static double CopyProbe(string model, string target, bool durable)
    {
        System.IO.Directory.CreateDirectory(target);
        var clock = Stopwatch.StartNew();
        foreach (string file in System.IO.Directory.GetFiles(model, "*.safetensors"))
        {
            long length = new FileInfo(file).Length;
            using var shard = MappedShard.Open(file);
            using var output = new FileStream(Path.Combine(target, Path.GetFileName(file)), FileMode.CreateNew, FileAccess.Write, FileShare.None, AtomicFileSet.BufferBytes);
            long dataBytes = length - shard.DataOffset;
            using (var header = new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.Read))
            {
                var bytes = new byte[shard.DataOffset];
                header.ReadExactly(bytes);
                output.Write(bytes);
            }
            for (long done = 0; done < dataBytes; done += TensorStreamer.ChunkBytes)
            {
                using var range = shard.Map(done, Math.Min(TensorStreamer.ChunkBytes, dataBytes - done));
                output.Write(range.Span);
            }
            output.Flush(flushToDisk: durable);
        }
        double seconds = clock.Elapsed.TotalSeconds;
        System.IO.Directory.Delete(target, recursive: true);
        return seconds;
    }
}
