using System.Globalization;
using System.Text;
using System.Text.Json;
using PeftNative.Adapters;
using PeftNative.Merging;

namespace PeftNative.Cli.Commands;

/// <summary>
/// Runs a merge or unmerge for the CLI: Ctrl+C cancels (nothing is left behind), progress is shown
/// (<see cref="MergeProgressDisplay"/>), library errors become one line on standard error with
/// <see cref="ExitCodes.InputError"/>, and the summary is printed as text or JSON.
/// </summary>
internal static class MergeRunner
{
    /// <summary>The library call: merge or unmerge.</summary>
    public delegate MergeResult Operation(string model, PeftAdapter adapter, string output, MergeOptions options,
        IProgress<MergeProgress>? progress, CancellationToken cancellationToken);

    /// <summary>Runs <paramref name="operation"/>; <paramref name="after"/> may add report lines and JSON fields (and returns a failed-check flag).</summary>
    public static int Run(string command, Operation operation, string model, PeftAdapter adapter, string output, MergeOptions options, bool json,
        Func<MergeResult, (List<string> Lines, Action<Utf8JsonWriter>? Json, bool Failed)>? after = null)
    {
        using var cancel = new CancellationTokenSource();
        ConsoleCancelEventHandler onCancel = (_, e) =>
        {
            e.Cancel = true; // let the library remove its temporary directory before the process ends
            cancel.Cancel();
        };
        Console.CancelKeyPress += onCancel;
        var notes = new List<string>();
        try
        {
            options = options with { Diagnostics = notes.Add };
            var result = MergeProgressDisplay.Run(command, json, progress => operation(model, adapter, output, options, progress, cancel.Token));
            var (lines, extraJson, failed) = after?.Invoke(result) ?? ([], null, false);
            Console.Out.WriteLine(json ? ToJson(command, result, notes, extraJson) : ToText(command, result, notes, lines));
            return failed ? ExitCodes.FailedCheck : 0;
        }
        catch (OperationCanceledException)
        {
            return ExitCodes.Fail(command, ExitCodes.InputError, "cancelled; nothing was written");
        }
        catch (Exception e) when (e is IOException or ArgumentException or InvalidOperationException or UnauthorizedAccessException or KeyNotFoundException or DllNotFoundException)
        {
            // FileFormatException and NonFiniteMergeException are among these; each names the file and tensor.
            return ExitCodes.Fail(command, ExitCodes.InputError, AdapterArguments.OneLine(e.Message));
        }
        finally
        {
            Console.CancelKeyPress -= onCancel;
        }
    }

    private static string ToText(string command, MergeResult r, List<string> notes, List<string> lines)
    {
        var sb = new StringBuilder();
        var inv = CultureInfo.InvariantCulture;
        sb.AppendLine(string.Create(inv, $"{command}d into {r.OutputDirectory}: {r.TensorsTouched} tensors changed, {r.TensorsCopied} copied unchanged"));
        sb.AppendLine(string.Create(inv, $"  read {r.BytesRead / 1e6:F1} MB, wrote {r.BytesWritten / 1e6:F1} MB in {r.Seconds:F2} s ({(r.BytesRead + r.BytesWritten) / 1e6 / Math.Max(r.Seconds, 1e-9):F0} MB/s), peak memory {r.PeakMemoryBytes / 1e6:F0} MB"));
        foreach (var (tensor, count) in r.NonFiniteCounts)
            sb.AppendLine(string.Create(inv, $"warning: {tensor} holds {count} non-finite value(s) (allowed by --allow-nonfinite)"));
        foreach (string line in lines)
            sb.AppendLine(line);
        foreach (string note in notes)
            sb.AppendLine("note: " + note);
        return sb.ToString().TrimEnd();
    }

    private static string ToJson(string command, MergeResult r, List<string> notes, Action<Utf8JsonWriter>? extra)
    {
        using var stream = new MemoryStream();
        using (var w = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true }))
        {
            w.WriteStartObject();
            w.WriteString("operation", command);
            w.WriteString("out", r.OutputDirectory);
            w.WriteNumber("tensors_touched", r.TensorsTouched);
            w.WriteNumber("tensors_copied", r.TensorsCopied);
            w.WriteNumber("bytes_read", r.BytesRead);
            w.WriteNumber("bytes_written", r.BytesWritten);
            w.WriteNumber("seconds", r.Seconds);
            w.WriteNumber("peak_memory_bytes", r.PeakMemoryBytes);
            w.WriteStartObject("non_finite");
            foreach (var (tensor, count) in r.NonFiniteCounts)
                w.WriteNumber(tensor, count);
            w.WriteEndObject();
            w.WriteStartArray("notes");
            foreach (string note in notes)
                w.WriteStringValue(note);
            w.WriteEndArray();
            extra?.Invoke(w);
            w.WriteEndObject();
        }
        return Encoding.UTF8.GetString(stream.ToArray());
    }
}
