using PeftNative.Adapters;

namespace PeftNative.Composition;

/// <summary>
/// The composed LoRA modules collected module by module: it owns their tensors until
/// <see cref="ToAdapter"/> hands them to the adapter, and frees them if composition stops early.
/// </summary>
internal sealed class LoraOutput : IDisposable
{
    private readonly List<(string Path, Tensor A, Tensor B, double Alpha, bool IsEmbedding)> _modules = [];
    private readonly bool _allowNonFinite;
    private bool _handedOver;

    public LoraOutput(bool allowNonFinite) => _allowNonFinite = allowNonFinite;

    /// <summary>Whether NaN or ±Inf in a composed factor is kept (else refused).</summary>
    public bool AllowNonFinite => _allowNonFinite;

    /// <summary>The name of a factor in messages and files: lora_A / lora_B, or lora_embedding_A / _B.</summary>
    public static string FactorName(bool isEmbedding, char factor) => isEmbedding ? $"lora_embedding_{factor}" : $"lora_{factor}";

    /// <summary>Whether the output config keeps rsLoRA scaling (only when the paper method keeps the inputs' scalings).</summary>
    public bool UseRsLora { get; set; }

    /// <summary>
    /// Adds a module, taking ownership of both factors (they are freed here if the non-finite check
    /// refuses them). <paramref name="alpha"/> is its lora_alpha under <see cref="UseRsLora"/>. The
    /// check runs right after the module was composed, while its tensors are still in cache;
    /// <paramref name="finiteChecked"/> skips it for a caller whose kernel already reported (and
    /// that refused a non-finite result itself).
    /// </summary>
    /// <exception cref="InvalidDataException">A factor holds NaN or ±Inf and that is not allowed.</exception>
    public void Add(string path, Tensor a, Tensor b, double alpha, bool isEmbedding, bool finiteChecked = false)
    {
        try
        {
            if (!finiteChecked)
            {
                NonFiniteCheck.Require(a, path, FactorName(isEmbedding, 'A'), _allowNonFinite);
                NonFiniteCheck.Require(b, path, FactorName(isEmbedding, 'B'), _allowNonFinite);
            }
        }
        catch
        {
            a.Dispose();
            b.Dispose();
            throw;
        }
        lock (_modules)
            _modules.Add((path, a, b, alpha, isEmbedding));
    }

    /// <summary>The adapter: config from <see cref="OutputConfig.Lora"/>, modules in the order added; owns the tensors from now on.</summary>
    public PeftAdapter ToAdapter(TargetAlignment inputs)
    {
        // Modules may have been added from several threads: restore the inputs' module order.
        var order = inputs.ModulePaths.Select((p, i) => (p, i)).ToDictionary(x => x.p, x => x.i, StringComparer.Ordinal);
        _modules.Sort((x, y) => order[x.Path].CompareTo(order[y.Path]));
        var scalings = _modules.Select(m => new ModuleScaling(m.Path, (int)m.A.Shape[0], m.Alpha)).ToList();
        var config = OutputConfig.Lora(inputs, scalings, UseRsLora);
        var modules = _modules.Select(m => LoraModule.FromConfig(config, m.Path, m.A, m.B, m.IsEmbedding)).ToList();
        var adapter = PeftAdapter.Create(config, modules);
        _handedOver = true;
        return adapter;
    }

    /// <summary>Frees the tensors unless an adapter owns them.</summary>
    public void Dispose()
    {
        if (_handedOver)
            return;
        foreach (var m in _modules)
        {
            m.A.Dispose();
            m.B.Dispose();
        }
        _modules.Clear();
    }
}
