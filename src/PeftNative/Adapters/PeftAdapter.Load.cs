using PeftNative.SafeTensors;

namespace PeftNative.Adapters;

public sealed partial class PeftAdapter
{
    // Layers PEFT saves whole with save_embedding_layers (get_embedding_layer_name finds the model's
    // input/output embeddings; these are their names in the common architectures).
    private static readonly HashSet<string> EmbeddingLayerNames = new(StringComparer.Ordinal)
    {
        "embed_tokens", "lm_head", "wte", "word_embeddings", "embed_in", "embed_out", "shared",
    };

    /// <summary>
    /// Loads an adapter directory: adapter_config.json and adapter_model.safetensors (memory-mapped;
    /// tensors are zero-copy views). <paramref name="path"/> may also name the config or weights file.
    /// </summary>
    /// <exception cref="DirectoryNotFoundException">No such directory.</exception>
    /// <exception cref="AdapterFormatException">
    /// No config or weights (or only a pickle checkpoint), an invalid or unsupported config, or
    /// tensors that disagree with the config; the message names the file and the key or tensor.
    /// </exception>
    /// <exception cref="SafetensorsFormatException">The weights file breaks the safetensors format.</exception>
    public static PeftAdapter Load(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        string dir = Path.GetFullPath(path);
        if (File.Exists(dir) && Path.GetFileName(dir) is AdapterFiles.Config or AdapterFiles.Safetensors)
            dir = Path.GetDirectoryName(dir)!;
        if (!Directory.Exists(dir))
            throw new DirectoryNotFoundException($"adapter directory not found: {dir}");

        string configPath = Path.Combine(dir, AdapterFiles.Config);
        if (!File.Exists(configPath))
            throw new AdapterFormatException(dir, null, $"no {AdapterFiles.Config}: not a PEFT adapter directory{SubfolderHint(dir)}");
        var config = AdapterConfig.Parse(File.ReadAllText(configPath), configPath);

        string weightsPath = Path.Combine(dir, AdapterFiles.Safetensors);
        if (!File.Exists(weightsPath))
        {
            string picklePath = Path.Combine(dir, AdapterFiles.Pickle);
            if (File.Exists(picklePath))
                throw new AdapterFormatException(picklePath, null,
                    "is a PyTorch pickle checkpoint, which PeftNative does not load (unpickling can run code). Convert it once with PEFT: " +
                    "PeftModel.from_pretrained(base_model, dir).save_pretrained(out_dir, safe_serialization=True) writes adapter_model.safetensors");
            throw new AdapterFormatException(dir, null, $"no {AdapterFiles.Safetensors} beside {AdapterFiles.Config}");
        }
        var file = SafetensorsFile.Open(weightsPath);
        return FromSource(config, file, dir);
    }

    /// <summary>
    /// An adapter over tensors already open (a safetensors file, or any <see cref="ITensorSource"/>),
    /// validated against <paramref name="config"/> exactly as <see cref="Load"/> does. The adapter
    /// takes ownership of <paramref name="source"/> (disposed with it, or at once if this throws).
    /// </summary>
    /// <exception cref="AdapterFormatException">The tensors disagree with the config; the message names the source and tensor.</exception>
    public static PeftAdapter FromSource(AdapterConfig config, ITensorSource source, string? directoryPath = null)
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(source);
        try
        {
            return Build(config.Clone(), source, directoryPath);
        }
        catch
        {
            source.Dispose();
            throw;
        }
    }

    private static PeftAdapter Build(AdapterConfig config, ITensorSource source, string? directoryPath)
    {
        string file = source.SourcePath;
        AdapterFormatException Bad(string tensor, string problem) => new(file, tensor, problem);

        var loraParts = new Dictionary<string, LoraParts>(StringComparer.Ordinal);
        var ia3Infos = new Dictionary<string, SafetensorsTensorInfo>(StringComparer.Ordinal);
        var others = new List<(AdapterTensorKey Key, SafetensorsTensorInfo Info)>();
        string? adapterName = null;
        foreach (var info in source.Tensors)
        {
            var key = AdapterTensorNames.Parse(info.Name);
            if (key.AdapterName is { } an)
            {
                adapterName ??= an;
                if (an != adapterName)
                    throw Bad(info.Name, $"holds weights of adapter \"{an}\" but other tensors belong to \"{adapterName}\": one file, one adapter");
            }
            switch (key.Kind)
            {
                case AdapterTensorKind.DoraMagnitude:
                    throw Bad(info.Name, "is a DoRA magnitude vector: DoRA adapters are not supported. Merge the adapter into its base model with PEFT (merge_and_unload), or use a plain LoRA");
                case AdapterTensorKind.Ia3Vector:
                    if (config.PeftType != PeftType.Ia3)
                        throw Bad(info.Name, $"is an (IA)^3 vector but {AdapterFiles.Config} says peft_type \"LORA\"");
                    if (!ia3Infos.TryAdd(key.ModulePath, info))
                        throw Bad(info.Name, $"is a second ia3_l for module {key.ModulePath} (also {ia3Infos[key.ModulePath].Name})");
                    break;
                case AdapterTensorKind.Other:
                    others.Add((key, info));
                    break;
                default:
                    if (config.PeftType != PeftType.Lora)
                        throw Bad(info.Name, $"is a LoRA tensor but {AdapterFiles.Config} says peft_type \"IA3\"");
                    if (!loraParts.TryGetValue(key.ModulePath, out var parts))
                        loraParts.Add(key.ModulePath, parts = new LoraParts());
                    if (!parts.TrySet(key.Kind, info, out var previous))
                        throw Bad(info.Name, $"is a second {key.Kind} tensor for module {key.ModulePath} (also {previous!.Name})");
                    break;
            }
        }

        var lora = new List<LoraModule>();
        foreach (var (path, parts) in loraParts)
            lora.Add(BuildLora(config, source, path, parts, Bad));
        var ia3 = new List<Ia3Module>();
        foreach (var (path, info) in ia3Infos)
            ia3.Add(BuildIa3(config, source, path, info, Bad));
        if (lora.Count + ia3.Count == 0)
            throw new AdapterFormatException(file, null, config.PeftType == PeftType.Lora
                ? "holds no LoRA tensors (…lora_A.weight / …lora_B.weight)"
                : "holds no (IA)^3 tensors (…ia3_l)");

        var extras = new List<AdapterExtraTensor>();
        foreach (var (key, info) in others)
            extras.Add(ClassifyExtra(config, source, key, info, loraParts, Bad));
        return new PeftAdapter(config, lora, ia3, extras, directoryPath, file, [source]);
    }

    private static LoraModule BuildLora(AdapterConfig config, ITensorSource source, string path, LoraParts parts,
        Func<string, string, AdapterFormatException> bad)
    {
        var any = parts.A ?? parts.B ?? parts.BBias!;
        if (parts.A is null || parts.B is null)
        {
            string missing = parts.A is null ? (parts.IsEmbedding ? "lora_embedding_A" : "lora_A.weight") : (parts.IsEmbedding ? "lora_embedding_B" : "lora_B.weight");
            throw bad(any.Name, $"module {path} has no {missing}: LoRA needs both A and B");
        }
        if (parts.MixedEmbedding)
            throw bad(parts.A.Name, $"module {path} mixes embedding (lora_embedding_*) and linear (lora_A/lora_B) tensors");
        var a = parts.A;
        var b = parts.B;
        string? problem = LoraModule.CheckFactors(a.Shape.ToArray(), a.DType, b.Shape.ToArray(), b.DType);
        if (problem is not null)
            throw bad(a.Name, $"with {b.Name}: {problem}");
        if (!config.Targets(path))
            throw bad(a.Name, $"module {path} is not selected by target_modules {config.TargetModules}" + TargetsDetail(config));
        int expected = config.RankFor(path);
        if (a.Shape[0] != expected)
        {
            string why = config.RankPatternKeyFor(path) is { } k ? $"rank_pattern \"{k}\" gives {expected}" : $"r is {expected}";
            throw bad(a.Name, $"module {path} has rank {a.Shape[0]} (A {LoraModule.ShapeText([.. a.Shape])}, B {LoraModule.ShapeText([.. b.Shape])}) but {why}");
        }
        Tensor? bias = null;
        if (parts.BBias is { } bb)
        {
            if (!config.LoraBias)
                throw bad(bb.Name, "is a lora_B bias but the config's lora_bias is false");
            if (bb.Shape.Count != 1 || bb.Shape[0] != b.Shape[0] || !bb.DType.IsKernelFloat())
                throw bad(bb.Name, $"must be a float vector of {b.Shape[0]} elements (B's rows), got {bb.DType} {LoraModule.ShapeText([.. bb.Shape])}");
            bias = source.GetTensor(bb.Name);
        }
        return new LoraModule(path, source.GetTensor(a.Name), source.GetTensor(b.Name), config.AlphaFor(path), config.UseRsLora,
            config.FanInFanOut, parts.IsEmbedding, bias);
    }

    private static Ia3Module BuildIa3(AdapterConfig config, ITensorSource source, string path, SafetensorsTensorInfo info,
        Func<string, string, AdapterFormatException> bad)
    {
        if (!config.Targets(path))
            throw bad(info.Name, $"module {path} is not selected by target_modules {config.TargetModules}" + TargetsDetail(config));
        bool ff = config.IsFeedForward(path);
        string? problem = Ia3Module.CheckVector(info.Shape.ToArray(), info.DType, ff);
        if (problem is not null)
            throw bad(info.Name, problem + (ff ? " (feedforward_modules selects this module)" : " (feedforward_modules does not select this module)"));
        return new Ia3Module(path, source.GetTensor(info.Name), ff, config.FanInFanOut);
    }

    private static AdapterExtraTensor ClassifyExtra(AdapterConfig config, ITensorSource source, AdapterTensorKey key, SafetensorsTensorInfo info,
        Dictionary<string, LoraParts> loraParts, Func<string, string, AdapterFormatException> bad)
    {
        string stripped = info.Name.StartsWith(AdapterTensorNames.Prefix, StringComparison.Ordinal) ? info.Name[AdapterTensorNames.Prefix.Length..] : info.Name;
        string module = key.ModulePath;
        string baseModule = StripWrappers(module);
        string baseName = baseModule.Length == 0 ? key.ParameterName! : baseModule + "." + key.ParameterName;

        if (module.Length > 0 && config.IsUnderModulesToSave(module))
            return new AdapterExtraTensor(info.Name, baseName, AdapterExtraTensorKind.ModulesToSave, source.GetTensor(info.Name));

        if (key.ParameterName == "bias" && baseModule.Length > 0)
        {
            var mode = config.PeftType == PeftType.Lora ? config.Bias : LoraBiasMode.None;
            if (mode == LoraBiasMode.All || (mode == LoraBiasMode.LoraOnly && loraParts.ContainsKey(baseModule)))
                return new AdapterExtraTensor(info.Name, baseName, AdapterExtraTensorKind.Bias, source.GetTensor(info.Name));
            if (mode == LoraBiasMode.LoraOnly)
                throw bad(info.Name, $"is a bias of {baseModule}, which has no LoRA, but bias is \"lora_only\"");
        }

        string last = baseModule[(baseModule.LastIndexOf('.') + 1)..];
        if (key.ParameterName == "weight" && EmbeddingLayerNames.Contains(last))
            return new AdapterExtraTensor(info.Name, baseName, AdapterExtraTensorKind.EmbeddingLayer, source.GetTensor(info.Name));

        string biasNote = config.PeftType == PeftType.Lora ? $", bias is \"{BiasText(config.Bias)}\"" : "";
        throw bad(info.Name, $"is not explained by {AdapterFiles.Config}: not a LoRA or (IA)^3 tensor, not under modules_to_save " +
            $"({(config.ModulesToSave is { Count: > 0 } m ? string.Join(", ", m) : "none")}){biasNote}, and not a saved embedding layer (tensor '{stripped}')");
    }

    // PEFT wrappers that sit between the module path and the parameter: ModulesToSaveWrapper
    // (".modules_to_save.<adapter>") and tuner layers (".base_layer").
    private static string StripWrappers(string module)
    {
        string[] parts = module.Split('.');
        var kept = new List<string>(parts.Length);
        for (int i = 0; i < parts.Length; i++)
        {
            if (parts[i] == "modules_to_save" && i + 1 < parts.Length)
            {
                i++;
                continue;
            }
            if (parts[i] != "base_layer" && parts[i] != "original_module")
                kept.Add(parts[i]);
        }
        return string.Join('.', kept);
    }

    private static string TargetsDetail(AdapterConfig config)
    {
        var notes = new List<string>();
        if (config.ExcludeModules is { } ex)
            notes.Add($"exclude_modules {ex}");
        if (config.ModulesToSave is { Count: > 0 } mts)
            notes.Add($"modules_to_save [{string.Join(", ", mts)}]");
        if (config.PeftType == PeftType.Lora && config.LayersToTransform is { Count: > 0 } layers)
            notes.Add($"layers_to_transform [{string.Join(", ", layers)}]");
        return notes.Count == 0 ? "" : " (with " + string.Join(", ", notes) + ")";
    }

    private static string BiasText(LoraBiasMode mode) => mode switch
    {
        LoraBiasMode.All => "all",
        LoraBiasMode.LoraOnly => "lora_only",
        _ => "none",
    };

    private static string SubfolderHint(string dir)
    {
        try
        {
            var subs = Directory.EnumerateDirectories(dir)
                .Where(d => File.Exists(Path.Combine(d, AdapterFiles.Config)))
                .Select(Path.GetFileName)
                .Order(StringComparer.Ordinal)
                .ToArray();
            return subs.Length == 0 ? "" : $" (it holds adapters in subfolders: {string.Join(", ", subs)}; load one of those)";
        }
        catch (IOException)
        {
            return "";
        }
        catch (UnauthorizedAccessException)
        {
            return "";
        }
    }

    /// <summary>The tensors seen for one LoRA module while reading a file.</summary>
    private sealed class LoraParts
    {
        public SafetensorsTensorInfo? A { get; private set; }
        public SafetensorsTensorInfo? B { get; private set; }
        public SafetensorsTensorInfo? BBias { get; private set; }
        public bool IsEmbedding => _sawEmbedding;
        public bool MixedEmbedding => _sawEmbedding && _sawLinear;
        private bool _sawEmbedding;
        private bool _sawLinear;

        public bool TrySet(AdapterTensorKind kind, SafetensorsTensorInfo info, out SafetensorsTensorInfo? previous)
        {
            if (kind is AdapterTensorKind.LoraEmbeddingA or AdapterTensorKind.LoraEmbeddingB)
                _sawEmbedding = true;
            else if (kind is AdapterTensorKind.LoraA or AdapterTensorKind.LoraB)
                _sawLinear = true;
            previous = kind switch
            {
                AdapterTensorKind.LoraA or AdapterTensorKind.LoraEmbeddingA => A,
                AdapterTensorKind.LoraB or AdapterTensorKind.LoraEmbeddingB => B,
                _ => BBias,
            };
            if (previous is not null)
                return false;
            switch (kind)
            {
                case AdapterTensorKind.LoraA or AdapterTensorKind.LoraEmbeddingA:
                    A = info;
                    break;
                case AdapterTensorKind.LoraB or AdapterTensorKind.LoraEmbeddingB:
                    B = info;
                    break;
                default:
                    BBias = info;
                    break;
            }
            return true;
        }
    }
}
