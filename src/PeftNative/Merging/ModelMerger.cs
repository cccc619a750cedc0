using System.Diagnostics;
using PeftNative.Adapters;
using PeftNative.Backends;
using PeftNative.Models;
using PeftNative.SafeTensors;

namespace PeftNative.Merging;

/// <summary>
/// Merges an adapter into a Hugging Face model directory (and back out), streaming tensor by
/// tensor into a new directory that appears atomically. Inputs are never modified.
/// </summary>
/// <remarks>
/// Steps: open the model (headers only) and check every adapter module against it
/// (<see cref="MergePlan"/>: nothing is written when a module does not fit); create a temporary
/// sibling of the output (<see cref="OutputDirectoryTransaction"/>); write every tensor, the
/// touched ones merged by the kernels of <see cref="MergeOptions.Backend"/> and checked for NaN/Inf,
/// the others copied unchanged; copy config.json, generation_config.json and the tokenizer files;
/// write peftnative_merge.json; fsync; rename. Resident memory stays near the largest touched
/// tensor plus the adapter (see <see cref="TensorStreamer"/>).
/// </remarks>
public static class ModelMerger
{
    /// <summary>Writes <paramref name="modelDirectory"/> with <paramref name="adapter"/> merged into
    /// <paramref name="outputDirectory"/> (which must not exist, or is replaced only when it is a
    /// previous merge output; it must not be, contain or lie inside an input).</summary>
    /// <exception cref="FileFormatException">A bad model or adapter file, or a module that does not fit the model (named).</exception>
    /// <exception cref="NonFiniteMergeException">A merged tensor holds NaN/Inf and <see cref="MergeOptions.AllowNonFinite"/> is off.</exception>
    /// <exception cref="ArgumentException">The output is, contains or lies inside an input; a bad option.</exception>
    /// <exception cref="IOException">The output exists and is not a previous merge output, or writing failed (nothing is published).</exception>
    /// <exception cref="OperationCanceledException">Cancelled; nothing is left behind.</exception>
    public static MergeResult Merge(string modelDirectory, PeftAdapter adapter, string outputDirectory,
        MergeOptions? options = null, IProgress<MergeProgress>? progress = null, CancellationToken cancellationToken = default) =>
        Run(MergeDirection.Merge, modelDirectory, adapter, outputDirectory, options, progress, cancellationToken);

    /// <summary>The inverse of <see cref="Merge"/>: subtracts LoRA updates, divides by (IA)^3
    /// vectors (a zero in l is an error naming the tensor and index). modules_to_save tensors
    /// cannot be restored (the adapter holds only their trained values) and are kept, with a note.</summary>
    /// <exception cref="FileFormatException">As for <see cref="Merge"/>, and a zero in an (IA)^3 vector (named with its index).</exception>
    /// <exception cref="NonFiniteMergeException">As for <see cref="Merge"/>.</exception>
    /// <exception cref="ArgumentException">As for <see cref="Merge"/>.</exception>
    /// <exception cref="IOException">As for <see cref="Merge"/>.</exception>
    /// <exception cref="OperationCanceledException">Cancelled; nothing is left behind.</exception>
    public static MergeResult Unmerge(string modelDirectory, PeftAdapter adapter, string outputDirectory,
        MergeOptions? options = null, IProgress<MergeProgress>? progress = null, CancellationToken cancellationToken = default) =>
        Run(MergeDirection.Unmerge, modelDirectory, adapter, outputDirectory, options, progress, cancellationToken);

    private static MergeResult Run(MergeDirection direction, string modelDirectory, PeftAdapter adapter, string outputDirectory,
        MergeOptions? options, IProgress<MergeProgress>? progress, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(modelDirectory);
        ArgumentNullException.ThrowIfNull(adapter);
        ArgumentException.ThrowIfNullOrEmpty(outputDirectory);
        options ??= new MergeOptions();
        if (options.OutputDType is { } dtype && !dtype.IsKernelFloat())
            throw new ArgumentException($"output dtype {dtype} is not F32, F16 or BF16", nameof(options));
        if (options.MaxShardBytes is { } max && max <= 0)
            throw new ArgumentException($"the largest shard must be a positive number of bytes, got {max}", nameof(options));
        cancellationToken.ThrowIfCancellationRequested();
        Action<string> notice = options.Diagnostics ?? (static line => Console.Error.WriteLine(line));

        var clock = Stopwatch.StartNew();
        using var memory = PeakMemorySampler.Start();
        using var model = HuggingFaceModelDirectory.Open(modelDirectory);
        OutputLocationGuard.Check(outputDirectory, model, adapter, options.ProtectedDirectories);
        OutputDirectoryTransaction.CheckReplaceable(Path.GetFullPath(outputDirectory));
        var plan = MergePlan.Build(model, adapter, direction);
        foreach (string note in plan.Notes)
            notice(note);
        using var backend = KernelBackendFactory.Create(options.Backend, options.Threads, notice);

        using var output = OutputDirectoryTransaction.Begin(outputDirectory, options.Durable, notice);
        IReadOnlyDictionary<string, long> nonFinite;
        long bytesRead;
        using (var writer = new MergedModelWriter(model, plan, options, backend, progress, cancellationToken))
        {
            writer.Write(output.TemporaryPath);
            nonFinite = writer.NonFiniteCounts.ToDictionary();
            bytesRead = writer.BytesRead;
        }
        using (var files = new AtomicFileSet(output.TemporaryPath, options.Durable))
        {
            ModelSideFiles.Write(model, files, output.TemporaryPath, options.OutputDType);
            string adapterText = options.AdapterDescription ?? adapter.DirectoryPath ?? "composed adapter";
            files.Add(Path.Combine(output.TemporaryPath, MergeProvenance.FileName),
                MergeProvenance.Build(direction, model.DirectoryPath, adapterText, options.OutputDType, plan.Edits.Keys));
            files.Commit();
        }
        long bytesWritten = Directory.EnumerateFiles(output.TemporaryPath).Sum(f => new FileInfo(f).Length);
        cancellationToken.ThrowIfCancellationRequested(); // last chance: past here the output is published
        output.Commit();
        return new MergeResult
        {
            OutputDirectory = output.OutputPath,
            TensorsTouched = plan.Edits.Count,
            TensorsCopied = model.Weights.Tensors.Count - plan.Edits.Count,
            BytesRead = bytesRead,
            BytesWritten = bytesWritten,
            Seconds = clock.Elapsed.TotalSeconds,
            PeakMemoryBytes = memory.PeakBytes,
            NonFiniteCounts = nonFinite,
            TouchedTensorNames = [.. plan.Edits.Keys.Order(StringComparer.Ordinal)],
            Notes = plan.Notes,
        };
    }
}
