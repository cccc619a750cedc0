using System.Collections;
using System.Reflection;
using System.Text;
using PeftNative.Adapters;

namespace PeftNative.Fuzz;

/// <summary>
/// The input is adapter_config.json text, decoded as UTF-8 (invalid bytes become U+FFFD, as a
/// File.ReadAllText would make them). <see cref="AdapterConfig.Parse"/> may reject it only with
/// <see cref="AdapterFormatException"/>. An accepted config has every public property read (and
/// collections enumerated), so a lazily computed value that throws is a finding too; only
/// InvalidOperationException is allowed there, the documented answer of a field that does not
/// belong to the config's kind. It must also survive ToJson and a second Parse unchanged.
/// </summary>
internal static class AdapterConfigTarget
{
    private const string FilePath = "fuzz-input/adapter_config.json";

    // Reflection so that the harness keeps up with the config's API without edits; cached once.
    private static readonly PropertyInfo[] Properties = typeof(AdapterConfig)
        .GetProperties(BindingFlags.Public | BindingFlags.Instance)
        .Where(p => p.CanRead && p.GetIndexParameters().Length == 0)
        .ToArray();

    public static void Run(ReadOnlySpan<byte> input)
    {
        string json = Encoding.UTF8.GetString(input);
        AdapterConfig config;
        try
        {
            config = AdapterConfig.Parse(json, FilePath);
        }
        catch (AdapterFormatException)
        {
            return;
        }
        if (config is null)
            throw new FuzzInvariantException("adapter-config: Parse returned null");
        foreach (PropertyInfo p in Properties)
        {
            object? value;
            try
            {
                value = p.GetValue(config);
            }
            catch (TargetInvocationException e) when (e.InnerException is InvalidOperationException)
            {
                // The documented "not for this kind of config" answer (e.g. a LoRA field on IA3).
                continue;
            }
            catch (TargetInvocationException e) when (e.InnerException is not null)
            {
                // Report the getter's own exception, not the reflection wrapper.
                throw new FuzzInvariantException($"adapter-config: property {p.Name} threw {e.InnerException.GetType().FullName}: {e.InnerException}");
            }
            Touch(value);
        }
        _ = config.ToString();
        RoundTrip(config);
    }

    /// <summary>An accepted config, written out, must parse again and write out the same text.</summary>
    private static void RoundTrip(AdapterConfig config)
    {
        string written = config.ToJson();
        AdapterConfig again;
        try
        {
            again = AdapterConfig.Parse(written, FilePath);
        }
        catch (AdapterFormatException e)
        {
            throw new FuzzInvariantException($"adapter-config: ToJson of an accepted config does not parse again: {e.Message}\n{written}");
        }
        string rewritten = again.ToJson();
        if (!string.Equals(written, rewritten, StringComparison.Ordinal))
            throw new FuzzInvariantException($"adapter-config: ToJson is not stable across a parse:\n{written}\n---\n{rewritten}");
    }

    private static void Touch(object? value)
    {
        switch (value)
        {
            case null or string:
                return;
            case IDictionary dict:
                foreach (DictionaryEntry e in dict)
                    Touch(e.Value);
                return;
            case IEnumerable items:
                foreach (object? item in items)
                    Touch(item);
                return;
            default:
                _ = value.ToString();
                return;
        }
    }
}
