using System.Diagnostics;
using System.Globalization;
using PeftNative.Merging;
using Spectre.Console;

namespace PeftNative.Cli.Commands;

/// <summary>
/// Shows a merge's progress on standard error: a Spectre.Console bar with bytes/s and the time
/// left on a terminal; when standard error is redirected, a plain line per 10% once the merge has
/// run for 2 seconds (so short runs and one-line failure reports stay clean); nothing with --json.
/// </summary>
internal static class MergeProgressDisplay
{
    /// <summary>Runs <paramref name="work"/>, passing it the progress sink to report to.</summary>
    public static T Run<T>(string verb, bool quiet, Func<IProgress<MergeProgress>?, T> work)
    {
        if (quiet)
            return work(null);
        if (Console.IsErrorRedirected)
            return work(new PlainLines(verb));
        var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Error) });
        T result = default!;
        console.Progress()
            .AutoClear(true)
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new DownloadedColumn(),
                new TransferSpeedColumn(), new RemainingTimeColumn())
            .Start(context =>
            {
                var task = context.AddTask(verb, autoStart: true, maxValue: 1);
                result = work(new Bar(task));
            });
        return result;
    }

    /// <summary>Feeds the Spectre task; the bar is redrawn by Spectre's own timer.</summary>
    private sealed class Bar(ProgressTask task) : IProgress<MergeProgress>
    {
        public void Report(MergeProgress value)
        {
            task.MaxValue = Math.Max(1, value.BytesTotal);
            task.Value = value.BytesDone;
            task.Description = $"{value.TensorsDone}/{value.TensorsTotal} tensors";
        }
    }

    private sealed class PlainLines(string verb) : IProgress<MergeProgress>
    {
        private readonly Stopwatch _clock = Stopwatch.StartNew();
        private int _shownTenth;

        public void Report(MergeProgress value)
        {
            int tenth = value.BytesTotal == 0 ? 10 : (int)(value.BytesDone * 10 / value.BytesTotal);
            if (tenth <= _shownTenth || _clock.Elapsed.TotalSeconds < 2)
                return;
            _shownTenth = tenth;
            double seconds = _clock.Elapsed.TotalSeconds;
            double rate = value.BytesDone / Math.Max(seconds, 1e-9);
            double left = rate > 0 ? (value.BytesTotal - value.BytesDone) / rate : 0;
            Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{verb}: {tenth * 10}% ({value.TensorsDone}/{value.TensorsTotal} tensors, {value.BytesDone / 1e6:F0} of {value.BytesTotal / 1e6:F0} MB, {rate / 1e6:F0} MB/s, {left:F0} s left)"));
        }
    }
}
