using PeftNative.Merging;

namespace PeftNative.NativeApi;

/// <summary>
/// <c>peftnative_merge</c>: <see cref="ModelMerger.Merge"/> of one adapter directory into a model
/// directory, written to a new directory.
/// </summary>
internal static class MergeOperation
{
    /// <summary>The <c>dtype</c> argument that keeps each tensor's dtype.</summary>
    public const int KeepDType = -1;

    /// <exception cref="ArgumentException">An unknown dtype code.</exception>
    /// <exception cref="IOException">A missing or unreadable input, or an output that cannot be written.</exception>
    /// <exception cref="FileFormatException">A bad model or adapter file, or a module that does not fit the model.</exception>
    public static void Run(string modelDirectory, string adapterDirectory, string outputDirectory, int dtype, int threads)
    {
        DType? outputDType = dtype switch
        {
            KeepDType => null,
            0 => DType.F32,
            1 => DType.F16,
            2 => DType.BF16,
            _ => throw new ArgumentException($"dtype {dtype} is not one of -1 (keep), 0 (f32), 1 (f16), 2 (bf16)"),
        };
        if (!Directory.Exists(modelDirectory))
            throw new DirectoryNotFoundException($"model directory {Path.GetFullPath(modelDirectory)} does not exist");
        using var adapter = ComposeOperation.LoadAdapter("adapter", adapterDirectory);
        var options = new MergeOptions { OutputDType = outputDType, Threads = threads, Diagnostics = static _ => { } };
        ModelMerger.Merge(modelDirectory, adapter, outputDirectory, options);
    }
}
