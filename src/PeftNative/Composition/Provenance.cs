using System.Collections;
using System.Diagnostics.CodeAnalysis;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace PeftNative.Composition;

/// <summary>
/// The <c>__metadata__</c> a composed adapter is saved with, so the file says how it was made:
/// <list type="table">
/// <item><term>format</term><description><c>pt</c> (PEFT needs it)</description></item>
/// <item><term>peftnative.expression</term><description>the expression as given, e.g. <c>0.7*c + 0.3*(x - y)</c></description></item>
/// <item><term>peftnative.terms</term><description>JSON list of the terms as applied (after normalisation): <c>[{"adapter": "c", "coefficient": 0.7}, ...]</c></description></item>
/// <item><term>peftnative.method</term><description>the method name (<c>paper</c>, <c>ties_svd</c>, ...)</description></item>
/// <item><term>peftnative.options</term><description>JSON of the options that shape the result</description></item>
/// <item><term>peftnative.inputs</term><description>JSON: adapter name → <c>{"path": weights file, "sha256": hex}</c>
/// (both null for an adapter built in memory; an <c>"error"</c> instead of the hash when the file could not be read)</description></item>
/// </list>
/// The input hashes are computed on first use of the map (streaming SHA-256 over each
/// adapter_model.safetensors), not during composition: composing reads every input once, and hashing
/// would read them all a second time. The map is computed once and then fixed.
/// </summary>
internal sealed class Provenance : IReadOnlyDictionary<string, string>
{
    private readonly Lazy<Dictionary<string, string>> _map;

    private Provenance(Func<Dictionary<string, string>> build) =>
        _map = new Lazy<Dictionary<string, string>>(build, LazyThreadSafetyMode.ExecutionAndPublication);

    /// <summary>Prefix of the keys this library writes.</summary>
    public const string Prefix = "peftnative.";

    /// <summary>The provenance of a composition.</summary>
    public static Provenance Create(ModuleExpression expression, IReadOnlyList<CompositionTerm> terms, CompositionOptions options, TargetAlignment inputs, string backendName)
    {
        var map = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["format"] = "pt",
            [Prefix + "expression"] = expression.ToString() ?? "",
            [Prefix + "terms"] = TermsJson(terms),
            [Prefix + "method"] = options.Method.Name(),
            [Prefix + "options"] = OptionsJson(options, backendName),
        };
        var files = inputs.AdapterNames.Select(n => (Name: n, Path: inputs.AdapterNamed(n).WeightsPath)).ToList();
        return new Provenance(() =>
        {
            map[Prefix + "inputs"] = InputsJson(files);
            return map;
        });
    }

    /// <summary>SHA-256 of a file as lower-case hex, read in a stream (the file is never held in memory).</summary>
    public static string Sha256(string path)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20, FileOptions.SequentialScan);
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        byte[] buffer = new byte[1 << 20];
        int n;
        while ((n = stream.Read(buffer, 0, buffer.Length)) > 0)
            hash.AppendData(buffer, 0, n);
        return Convert.ToHexStringLower(hash.GetHashAndReset());
    }

    private static string TermsJson(IReadOnlyList<CompositionTerm> terms)
    {
        var array = new JsonArray();
        foreach (var t in terms)
            array.Add((JsonNode)new JsonObject { ["adapter"] = t.Adapter, ["coefficient"] = t.Coefficient }); // Add(JsonNode), not the reflection-based Add<T> (NativeAOT: src/PeftNative.NativeApi)
        return array.ToJsonString();
    }

    private static string OptionsJson(CompositionOptions o, string backendName) => new JsonObject
    {
        ["method"] = o.Method.Name(),
        ["rank"] = o.Rank,
        ["density"] = o.Density,
        ["majority_sign_method"] = o.MajoritySign == MajoritySignMethod.Total ? "total" : "frequency",
        ["svd_clamp"] = o.SvdClamp,
        ["seed"] = o.Seed,
        ["raw_weights"] = o.RawWeights,
        ["union_targets"] = o.UnionTargets,
        ["allow_non_finite"] = o.AllowNonFinite,
        ["backend"] = backendName,
    }.ToJsonString();

    private static string InputsJson(List<(string Name, string? Path)> files)
    {
        var obj = new JsonObject();
        foreach (var (name, path) in files)
        {
            var entry = new JsonObject { ["path"] = path, ["sha256"] = null };
            if (path is not null)
            {
                try
                {
                    entry["sha256"] = Sha256(path);
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    // The map is read lazily (e.g. while saving): a file gone since composing is recorded, not thrown.
                    entry["error"] = $"cannot hash {path}: {e.Message}";
                }
            }
            obj[name] = entry;
        }
        return obj.ToJsonString(new JsonSerializerOptions { WriteIndented = false, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping });
    }

    /// <inheritdoc />
    public string this[string key] => _map.Value[key];

    /// <inheritdoc />
    public IEnumerable<string> Keys => _map.Value.Keys;

    /// <inheritdoc />
    public IEnumerable<string> Values => _map.Value.Values;

    /// <inheritdoc />
    public int Count => _map.Value.Count;

    /// <inheritdoc />
    public bool ContainsKey(string key) => _map.Value.ContainsKey(key);

    /// <inheritdoc />
    public bool TryGetValue(string key, [MaybeNullWhen(false)] out string value) => _map.Value.TryGetValue(key, out value);

    /// <inheritdoc />
    public IEnumerator<KeyValuePair<string, string>> GetEnumerator() => _map.Value.GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
}
