using PeftNative.Adapters;
using PeftNative.Composition;
using PeftNative.Models.Transformer;

namespace PeftNative.Cli.Commands;

/// <summary>The model and adapters asked for, checked for usage errors.</summary>
internal sealed record ModelRequest(string ModelDirectory, string? ExpressionText, ModuleExpression? Expression,
    List<(string Name, string Directory)> Adapters, CompositionMethod Method, bool Runtime, int Threads)
{
    /// <summary>
    /// Loads the adapters, composes them when there is an expression, and loads the model with them
    /// applied. On failure returns null and a one-line reason (every input error: a missing
    /// directory, a broken file, adapters that do not fit the model or each other).
    /// </summary>
    public LoadedModel? TryLoad(Action<string> warn, out string? error)
    {
        error = null;
        string dir = Path.GetFullPath(ModelDirectory);
        if (!Directory.Exists(dir))
        {
            error = $"model directory not found: {dir}";
            return null;
        }
        Dictionary<string, PeftAdapter> adapters;
        try
        {
            adapters = AdapterArguments.Load(Adapters);
        }
        catch (IOException e)
        {
            error = e.Message;
            return null;
        }
        CompositionResult? composed = null;
        try
        {
            IReadOnlyList<WeightedAdapter> applied = adapters.Values.Select(a => new WeightedAdapter(a)).ToList();
            if (Expression is not null)
            {
                composed = AdapterComposer.Compose(Expression, adapters, new CompositionOptions { Method = Method });
                foreach (string w in composed.Warnings)
                    warn(w);
                applied = [new WeightedAdapter(composed.Adapter)];
            }
            var options = new TransformerLoadOptions
            {
                MergedAdapters = Runtime ? [] : applied,
                RuntimeAdapters = Runtime ? applied : [],
                Threads = Threads,
                Diagnostics = warn,
            };
            var model = TransformerModel.Load(dir, options);
            return new LoadedModel(dir, model, adapters, composed);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or InvalidDataException
            or NotSupportedException)
        {
            composed?.Dispose();
            AdapterArguments.DisposeAll(adapters);
            string what = Expression is not null && composed is null ? "composition refused: " : "";
            error = what + AdapterArguments.OneLine(e.Message);
            return null;
        }
    }
}
