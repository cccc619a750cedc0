using System.Collections.ObjectModel;

namespace PeftNative.Adapters;

/// <summary>
/// A PEFT LoRA or (IA)^3 adapter: its config and its modules keyed by module path
/// (<c>transformer.h.0.attn.c_attn</c>, <c>model.layers.0.self_attn.q_proj</c>), plus the extra
/// tensors it carries (modules_to_save copies, trained biases, saved embedding layers) kept by
/// name. Loaded adapters hold zero-copy views into the memory-mapped adapter_model.safetensors;
/// the adapter owns the file (and, for <see cref="Create"/>, the given tensors) and releases it
/// on <see cref="Dispose"/>, after which its tensors must not be used.
/// Every module is consistent with the config by construction: targeted by target_modules, rank
/// equal to the config's rank for it (r or rank_pattern), alpha and flags from the config.
/// </summary>
public sealed partial class PeftAdapter : IDisposable
{
    private readonly AdapterConfig _config;
    private readonly IDisposable[] _owned;

    private PeftAdapter(AdapterConfig config, IReadOnlyList<LoraModule> lora, IReadOnlyList<Ia3Module> ia3,
        IReadOnlyList<AdapterExtraTensor> extras, string? directoryPath, string? weightsPath, IDisposable[] owned)
    {
        _config = config;
        LoraModules = new ReadOnlyDictionary<string, LoraModule>(lora.ToDictionary(m => m.ModulePath, StringComparer.Ordinal));
        Ia3Modules = new ReadOnlyDictionary<string, Ia3Module>(ia3.ToDictionary(m => m.ModulePath, StringComparer.Ordinal));
        ExtraTensors = new ReadOnlyDictionary<string, AdapterExtraTensor>(extras.ToDictionary(e => e.Name, StringComparer.Ordinal));
        DirectoryPath = directoryPath;
        WeightsPath = weightsPath;
        _owned = owned;
    }

    /// <summary>A copy of the adapter's config (changing the copy does not change the adapter).</summary>
    public AdapterConfig Config => _config.Clone();

    /// <summary>LoRA or (IA)^3.</summary>
    public PeftType Type => _config.PeftType;

    /// <summary>The directory it was loaded from, or null.</summary>
    public string? DirectoryPath { get; }

    /// <summary>The weights file it was loaded from (or the tensor source's path), or null.</summary>
    public string? WeightsPath { get; }

    /// <summary>LoRA modules by module path, in file order (empty for (IA)^3).</summary>
    public IReadOnlyDictionary<string, LoraModule> LoraModules { get; }

    /// <summary>(IA)^3 modules by module path, in file order (empty for LoRA).</summary>
    public IReadOnlyDictionary<string, Ia3Module> Ia3Modules { get; }

    /// <summary>Extra tensors by saved name.</summary>
    public IReadOnlyDictionary<string, AdapterExtraTensor> ExtraTensors { get; }

    /// <summary>Number of modules (LoRA or (IA)^3).</summary>
    public int ModuleCount => LoraModules.Count + Ia3Modules.Count;

    /// <summary>True once disposed.</summary>
    public bool IsDisposed { get; private set; }

    /// <summary>
    /// An adapter from modules built in memory (e.g. a composition result). The config is copied.
    /// The adapter takes ownership of every tensor given and disposes them with itself (disposing
    /// a view is harmless, so views of another adapter's file may be passed; that adapter must
    /// then outlive this one).
    /// </summary>
    /// <exception cref="ArgumentException">
    /// A module disagrees with the config (not targeted, rank not the config's rank for it — set
    /// <see cref="AdapterConfig.RankPattern"/> —, alpha or flags differ), a module path repeats,
    /// module kinds do not fit the config's type, or there are no modules.
    /// </exception>
    public static PeftAdapter Create(AdapterConfig config, IEnumerable<LoraModule>? loraModules = null,
        IEnumerable<Ia3Module>? ia3Modules = null, IEnumerable<AdapterExtraTensor>? extraTensors = null)
    {
        ArgumentNullException.ThrowIfNull(config);
        var cfg = config.Clone();
        LoraModule[] lora = [.. loraModules ?? []];
        Ia3Module[] ia3 = [.. ia3Modules ?? []];
        AdapterExtraTensor[] extras = [.. extraTensors ?? []];
        string? problem = CheckModules(cfg, lora, ia3, extras);
        if (problem is not null)
            throw new ArgumentException(problem);
        var owned = new List<IDisposable>();
        foreach (var m in lora)
        {
            owned.Add(m.A);
            owned.Add(m.B);
            if (m.BBias is not null)
                owned.Add(m.BBias);
        }
        owned.AddRange(ia3.Select(m => m.Vector));
        owned.AddRange(extras.Select(e => e.Tensor));
        return new PeftAdapter(cfg, lora, ia3, extras, null, null, [.. owned]);
    }

    /// <summary>Releases the mapped file (or the owned tensors). Tensors of this adapter are invalid afterwards.</summary>
    public void Dispose()
    {
        if (IsDisposed)
            return;
        IsDisposed = true;
        foreach (var d in _owned)
            d.Dispose();
    }

    /// <summary>Null when the modules fit the config, else the first problem.</summary>
    private static string? CheckModules(AdapterConfig cfg, LoraModule[] lora, Ia3Module[] ia3, AdapterExtraTensor[] extras)
    {
        if (lora.Length + ia3.Length == 0)
            return "an adapter needs at least one module";
        if (cfg.PeftType == PeftType.Lora && ia3.Length > 0)
            return "a LoRA config cannot carry IA3 modules";
        if (cfg.PeftType == PeftType.Ia3 && lora.Length > 0)
            return "an IA3 config cannot carry LoRA modules";
        var paths = new HashSet<string>(StringComparer.Ordinal);
        foreach (var m in lora)
        {
            if (!paths.Add(m.ModulePath))
                return $"module {m.ModulePath} appears twice";
            if (!cfg.Targets(m.ModulePath))
                return $"module {m.ModulePath} is not selected by the config's target_modules {cfg.TargetModules}";
            int rank = cfg.RankFor(m.ModulePath);
            if (m.Rank != rank)
                return $"module {m.ModulePath} has rank {m.Rank} but the config gives it rank {rank}; set r or rank_pattern to match";
            double alpha = cfg.AlphaFor(m.ModulePath);
            if (m.Alpha != alpha)
                return $"module {m.ModulePath} has alpha {m.Alpha} but the config gives it {alpha}; set lora_alpha or alpha_pattern to match";
            if (m.UseRsLora != cfg.UseRsLora)
                return $"module {m.ModulePath} has use_rslora={m.UseRsLora} but the config says {cfg.UseRsLora}";
            if (m.FanInFanOut != (cfg.FanInFanOut && !m.IsEmbedding))
                return $"module {m.ModulePath} has fan_in_fan_out={m.FanInFanOut} but the config says {cfg.FanInFanOut}";
            if (m.BBias is not null && !cfg.LoraBias)
                return $"module {m.ModulePath} has a lora_B bias but the config's lora_bias is false";
        }
        foreach (var m in ia3)
        {
            if (!paths.Add(m.ModulePath))
                return $"module {m.ModulePath} appears twice";
            if (!cfg.Targets(m.ModulePath))
                return $"module {m.ModulePath} is not selected by the config's target_modules {cfg.TargetModules}";
            if (m.IsFeedForward != cfg.IsFeedForward(m.ModulePath))
                return $"module {m.ModulePath} has feed-forward={m.IsFeedForward} but the config's feedforward_modules say {!m.IsFeedForward}";
            if (m.FanInFanOut != cfg.FanInFanOut)
                return $"module {m.ModulePath} has fan_in_fan_out={m.FanInFanOut} but the config says {cfg.FanInFanOut}";
        }
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var m in lora)
        {
            names.Add(m.ATensorName);
            names.Add(m.BTensorName);
        }
        foreach (var m in ia3)
            names.Add(m.TensorName);
        foreach (var e in extras)
        {
            if (!names.Add(e.Name))
                return $"extra tensor {e.Name} clashes with another tensor of the adapter";
        }
        return null;
    }
}
