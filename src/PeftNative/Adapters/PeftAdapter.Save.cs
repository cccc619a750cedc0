using System.Text;
using PeftNative.SafeTensors;

namespace PeftNative.Adapters;

public sealed partial class PeftAdapter
{
    private static readonly HashSet<string> AdapterDirectoryFiles = new(StringComparer.Ordinal)
    {
        AdapterFiles.Config, AdapterFiles.Safetensors, AdapterFiles.Pickle, AdapterFiles.Readme,
    };

    /// <summary>
    /// Writes the adapter as PEFT does: adapter_config.json in PEFT's layout and
    /// adapter_model.safetensors with PEFT's tensor names (<c>base_model.model.&lt;module&gt;.lora_A.weight</c>, ...)
    /// and <c>{"format": "pt"}</c> metadata, so PEFT's PeftModel.from_pretrained loads it.
    /// The directory is published whole: both files are written into a fresh temporary directory
    /// beside the target, flushed, and renamed into place, so a crash or an error leaves either the
    /// old directory or the new one, never a half-written adapter. With
    /// <paramref name="overwrite"/>, an existing adapter directory is replaced the same way (it may
    /// hold only adapter files and a README; anything else is refused rather than deleted).
    /// Saving over the directory this adapter was loaded from is allowed.
    /// </summary>
    /// <exception cref="IOException">The target exists and <paramref name="overwrite"/> is false, holds other files, or writing fails.</exception>
    /// <exception cref="ObjectDisposedException">The adapter was disposed.</exception>
    /// <exception cref="OperationCanceledException">Cancelled (nothing is left behind).</exception>
    public void Save(string directory, bool overwrite = false, CancellationToken cancellationToken = default) =>
        SaveCore(directory, null, overwrite, cancellationToken);

    /// <summary>
    /// Writes the adapter as <see cref="Save(string, bool, CancellationToken)"/> does, with
    /// <paramref name="metadata"/> added to the safetensors <c>__metadata__</c> (e.g. a
    /// composition's provenance). <c>"format"</c> is always <c>"pt"</c>, which PEFT needs.
    /// </summary>
    /// <exception cref="ArgumentException">A metadata key or value is null.</exception>
    /// <exception cref="IOException">The target exists and <paramref name="overwrite"/> is false, holds other files, or writing fails.</exception>
    /// <exception cref="ObjectDisposedException">The adapter was disposed.</exception>
    /// <exception cref="OperationCanceledException">Cancelled (nothing is left behind).</exception>
    public void Save(string directory, IReadOnlyDictionary<string, string> metadata, bool overwrite = false, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(metadata);
        SaveCore(directory, metadata, overwrite, cancellationToken);
    }

    private void SaveCore(string directory, IReadOnlyDictionary<string, string>? metadata, bool overwrite, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(directory);
        ObjectDisposedException.ThrowIf(IsDisposed, this);
        string target = Path.GetFullPath(directory).TrimEnd(Path.DirectorySeparatorChar);
        string parent = Path.GetDirectoryName(target) ?? throw new IOException($"cannot save an adapter as the root directory {target}");
        string name = Path.GetFileName(target);
        if (File.Exists(target))
            throw new IOException($"cannot save the adapter to {target}: a file of that name exists");
        bool replace = Directory.Exists(target) && Directory.EnumerateFileSystemEntries(target).Any();
        if (replace)
        {
            if (!overwrite)
                throw new IOException($"cannot save the adapter to {target}: the directory exists and is not empty (pass overwrite: true to replace an adapter)");
            var foreign = Directory.EnumerateFileSystemEntries(target)
                .Select(Path.GetFileName)
                .Where(f => !AdapterDirectoryFiles.Contains(f!))
                .Order(StringComparer.Ordinal)
                .ToArray();
            if (foreign.Length > 0)
                throw new IOException($"refusing to replace {target}: besides adapter files it holds {string.Join(", ", foreign)}; save to another directory");
        }

        Directory.CreateDirectory(parent);
        string temp = Path.Combine(parent, $".{name}.tmp-{Guid.NewGuid():N}");
        Directory.CreateDirectory(temp);
        try
        {
            WriteConfig(Path.Combine(temp, AdapterFiles.Config), _config.ToJson());
            cancellationToken.ThrowIfCancellationRequested();
            SafetensorsWriter.Write(Path.Combine(temp, AdapterFiles.Safetensors), Entries(), Metadata(metadata), null, cancellationToken);
            Publish(temp, target, parent, name);
        }
        catch
        {
            TryDelete(temp);
            throw;
        }
    }

    /// <summary>The caller's metadata with <c>"format": "pt"</c> (PEFT's loader needs it).</summary>
    private static Dictionary<string, string> Metadata(IReadOnlyDictionary<string, string>? extra)
    {
        var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (key, value) in extra ?? new Dictionary<string, string>())
        {
            if (key is null || value is null)
                throw new ArgumentException("metadata keys and values must not be null", nameof(extra));
            metadata[key] = value;
        }
        metadata["format"] = "pt";
        return metadata;
    }

    /// <summary>Every tensor under the name PEFT saves it with.</summary>
    private IEnumerable<SafetensorsEntry> Entries()
    {
        foreach (var m in LoraModules.Values)
        {
            yield return SafetensorsEntry.FromTensor(m.ATensorName, m.A);
            yield return SafetensorsEntry.FromTensor(m.BTensorName, m.B);
            if (m.BBias is not null)
                yield return SafetensorsEntry.FromTensor(AdapterTensorNames.Format(m.ModulePath, AdapterTensorKind.LoraBBias), m.BBias);
        }
        foreach (var m in Ia3Modules.Values)
            yield return SafetensorsEntry.FromTensor(m.TensorName, m.Vector);
        foreach (var e in ExtraTensors.Values)
            yield return SafetensorsEntry.FromTensor(e.Name, e.Tensor);
    }

    private static void WriteConfig(string path, string text)
    {
        using var fs = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.None);
        byte[] bytes = new UTF8Encoding(encoderShouldEmitUTF8Identifier: false).GetBytes(text);
        fs.Write(bytes);
        fs.Flush(flushToDisk: true);
    }

    /// <summary>Renames the finished temporary directory into place, moving an old adapter aside first and back if that fails.</summary>
    private static void Publish(string temp, string target, string parent, string name)
    {
        if (!Directory.Exists(target))
        {
            Directory.Move(temp, target);
            return;
        }
        string old = Path.Combine(parent, $".{name}.old-{Guid.NewGuid():N}");
        Directory.Move(target, old);
        try
        {
            Directory.Move(temp, target);
        }
        catch
        {
            Directory.Move(old, target);
            throw;
        }
        TryDelete(old);
    }

    private static void TryDelete(string dir)
    {
        try
        {
            if (Directory.Exists(dir))
                Directory.Delete(dir, recursive: true);
        }
        catch (IOException)
        {
            // Best effort: a leftover hidden temporary directory is harmless and never mistaken for the adapter.
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}
