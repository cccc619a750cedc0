using PeftNative.Adapters;
using PeftNative.Composition;

namespace PeftNative.Cli.Commands;

/// <summary>
/// The <c>--adapter NAME=DIR</c> values that <c>compose</c> and <c>similarity</c> share: parsing
/// (usage errors) and loading (input errors), kept apart so that bad usage is reported before
/// any file is opened.
/// </summary>
internal static class AdapterArguments
{
    /// <summary>Help text of the option.</summary>
    public const string Description = "An adapter and the name the expression uses for it, NAME=DIR (DIR: a PEFT adapter directory). Repeat for each adapter.";

    /// <summary>Parses the values in order; on failure returns null and a one-line reason.</summary>
    public static List<(string Name, string Directory)>? TryParse(IReadOnlyList<string>? values, out string? error)
    {
        error = null;
        var result = new List<(string, string)>();
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (string value in values ?? [])
        {
            int eq = value.IndexOf('=', StringComparison.Ordinal);
            if (eq <= 0 || eq == value.Length - 1)
            {
                error = $"--adapter needs NAME=DIR, got '{value}'";
                return null;
            }
            string name = value[..eq].Trim(), dir = value[(eq + 1)..];
            if (!ExpressionParser.IsAdapterName(name))
            {
                error = $"--adapter '{value}': '{name}' is not a valid adapter name (letters, digits and '_', not starting with a digit)";
                return null;
            }
            if (!names.Add(name))
            {
                error = $"--adapter: the name '{name}' is given twice";
                return null;
            }
            result.Add((name, dir));
        }
        return result;
    }

    /// <summary>
    /// Loads the adapters in order. On an input error (missing directory, broken config or weights)
    /// every adapter loaded so far is disposed and the exception propagates with the adapter's name
    /// prefixed to a one-line message.
    /// </summary>
    /// <exception cref="IOException">An adapter could not be loaded (the message names it).</exception>
    public static Dictionary<string, PeftAdapter> Load(IEnumerable<(string Name, string Directory)> adapters)
    {
        var loaded = new Dictionary<string, PeftAdapter>(StringComparer.Ordinal);
        try
        {
            foreach (var (name, dir) in adapters)
            {
                try
                {
                    loaded.Add(name, PeftAdapter.Load(dir));
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    throw new IOException($"adapter '{name}': {OneLine(e.Message)}", e);
                }
            }
            return loaded;
        }
        catch
        {
            DisposeAll(loaded);
            throw;
        }
    }

    /// <summary>Disposes every adapter.</summary>
    public static void DisposeAll(Dictionary<string, PeftAdapter> adapters)
    {
        foreach (var a in adapters.Values)
            a.Dispose();
    }

    /// <summary>A message on one line.</summary>
    public static string OneLine(string message) =>
        string.Join("; ", message.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
}
