using PeftNative.Adapters;
using PeftNative.Backends;
using PeftNative.Composition;

namespace PeftNative.NativeApi;

/// <summary>
/// <c>peftnative_compose</c>: what <c>peftnative compose EXPR --adapter NAME=DIR ... --method M --out DIR</c>
/// does, through <see cref="AdapterComposer.Compose"/> and <see cref="CompositionResult.Save"/>
/// with their defaults. Everything that can be checked without reading a file is checked first;
/// the output is written atomically or not at all, and inputs are only read.
/// </summary>
internal static class ComposeOperation
{
    /// <exception cref="ArgumentException">Bad expression or method, duplicate or missing names, output = an input.</exception>
    /// <exception cref="IOException">An adapter cannot be read, or the output exists or cannot be written.</exception>
    /// <exception cref="InvalidDataException">The result holds NaN or Inf.</exception>
    public static void Run(string expressionText, string[] names, string[] directories, string? method, string outputDirectory)
    {
        ModuleExpression expression;
        try
        {
            expression = ModuleExpression.Parse(expressionText);
        }
        catch (ExpressionSyntaxException e)
        {
            throw new ContextException("bad expression", e);
        }
        var options = new CompositionOptions { Method = method is null ? CompositionMethod.Paper : CompositionMethodNames.Parse(method) };

        var given = new Dictionary<string, string>(StringComparer.Ordinal);
        for (int i = 0; i < names.Length; i++)
        {
            if (!given.TryAdd(names[i], directories[i]))
                throw new ArgumentException($"the adapter name '{names[i]}' is given twice");
        }
        var used = expression.AdapterNames();
        if (used.FirstOrDefault(n => !given.ContainsKey(n)) is { } missing)
            throw new ArgumentException($"the expression uses '{missing}' but no adapter of that name is given (given: {string.Join(", ", given.Keys)})");

        string output = Path.TrimEndingDirectorySeparator(Path.GetFullPath(outputDirectory));
        foreach (string name in used)
        {
            if (string.Equals(Path.TrimEndingDirectorySeparator(Path.GetFullPath(given[name])), output, StringComparison.Ordinal))
                throw new ArgumentException($"output_directory {output} is the directory of input adapter '{name}'; inputs are never overwritten");
        }

        var adapters = new Dictionary<string, PeftAdapter>(StringComparer.Ordinal);
        try
        {
            foreach (string name in used)
                adapters.Add(name, LoadAdapter($"adapter '{name}'", given[name]));
            // The composer's own default backend, minus its notice on standard error: a library keeps off the host's streams.
            using var backend = KernelBackendFactory.Create(threads: 1, diagnostics: static _ => { });
            using var result = AdapterComposer.Compose(expression, adapters, options with { Backend = backend });
            result.Save(output);
        }
        finally
        {
            foreach (var adapter in adapters.Values)
                adapter.Dispose();
        }
    }

    /// <summary>Loads an adapter, naming it in any failure.</summary>
    public static PeftAdapter LoadAdapter(string what, string directory)
    {
        try
        {
            return PeftAdapter.Load(directory);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException)
        {
            throw new ContextException(what, e);
        }
    }
}
