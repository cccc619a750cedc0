using System.Globalization;
using System.Text;
using System.Text.Json;
using PeftNative.Adapters;
using PeftNative.Models;
using PeftNative.SafeTensors;

namespace PeftNative.Inspection;

/// <summary>
/// What a path holds, for <c>peftnative inspect</c>: a .safetensors file, a sharded checkpoint, a PEFT
/// adapter directory or a Hugging Face model directory. Lists the tensors (name, dtype, shape,
/// bytes), the config summary, the adapter's targets and per-module rank and scaling, and totals.
/// Reading costs the headers and configs only; no tensor data is touched.
/// </summary>
public sealed class InspectionReport
{
    private InspectionReport(InspectionKind kind, string path, IReadOnlyList<string> files, IReadOnlyDictionary<string, string> metadata,
        IReadOnlyList<KeyValuePair<string, string>> summary, IReadOnlyList<string> targets, IReadOnlyList<InspectedModule> modules,
        IReadOnlyList<InspectedTensor> tensors)
    {
        Kind = kind;
        Path = path;
        Files = files;
        Metadata = metadata;
        Summary = summary;
        Targets = targets;
        Modules = modules;
        Tensors = tensors;
        TotalParameters = tensors.Sum(t => t.Elements);
        TotalBytes = tensors.Sum(t => t.Bytes);
    }

    /// <summary>What the path holds.</summary>
    public InspectionKind Kind { get; }

    /// <summary>The full path inspected.</summary>
    public string Path { get; }

    /// <summary>The files read (configs and weights), full paths.</summary>
    public IReadOnlyList<string> Files { get; }

    /// <summary>The weights' <c>__metadata__</c>.</summary>
    public IReadOnlyDictionary<string, string> Metadata { get; }

    /// <summary>Config summary as ordered name/value pairs (config field names as written in the files).</summary>
    public IReadOnlyList<KeyValuePair<string, string>> Summary { get; }

    /// <summary>Target modules of an adapter as configured (names or one regex); empty otherwise.</summary>
    public IReadOnlyList<string> Targets { get; }

    /// <summary>Adapter modules with rank and scaling, in module-path order; empty for files and models.</summary>
    public IReadOnlyList<InspectedModule> Modules { get; }

    /// <summary>Every tensor, in file order.</summary>
    public IReadOnlyList<InspectedTensor> Tensors { get; }

    /// <summary>Elements of all tensors (parameters).</summary>
    public long TotalParameters { get; }

    /// <summary>Data bytes of all tensors.</summary>
    public long TotalBytes { get; }

    /// <summary>Inspects a .safetensors file, an index json, an adapter or model directory (or its config file).</summary>
    /// <exception cref="FileNotFoundException">Nothing at <paramref name="path"/>.</exception>
    /// <exception cref="FileFormatException">A file breaks its format (the message names the file and tensor or field).</exception>
    public static InspectionReport Inspect(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        string full = System.IO.Path.GetFullPath(path);
        if (File.Exists(full))
        {
            string name = System.IO.Path.GetFileName(full);
            string dir = System.IO.Path.GetDirectoryName(full)!;
            if (name == AdapterConfig.FileName)
                return InspectAdapter(dir);
            if (name == ModelConfig.FileName)
                return InspectModel(dir);
            if (name.EndsWith(".index.json", StringComparison.Ordinal))
                return InspectCheckpoint(full, InspectionKind.Checkpoint);
            return InspectCheckpoint(full, InspectionKind.Safetensors);
        }
        if (Directory.Exists(full))
        {
            if (File.Exists(System.IO.Path.Combine(full, AdapterConfig.FileName)))
                return InspectAdapter(full);
            if (File.Exists(System.IO.Path.Combine(full, ModelConfig.FileName)))
                return InspectModel(full);
            return InspectCheckpoint(full, InspectionKind.Checkpoint);
        }
        throw new FileNotFoundException($"nothing to inspect at {full}", full);
    }

    private static InspectionReport InspectCheckpoint(string path, InspectionKind kind)
    {
        using var source = SafetensorsCollection.Open(path);
        if (kind == InspectionKind.Checkpoint && source.Files.Count == 1 && !path.EndsWith(".index.json", StringComparison.Ordinal))
            kind = InspectionKind.Safetensors;
        var summary = new List<KeyValuePair<string, string>>
        {
            new("files", source.Files.Count.ToString(CultureInfo.InvariantCulture)),
            new("dtypes", DTypeCounts(source.Tensors)),
        };
        return new InspectionReport(kind, path, source.Files, Copy(source.Metadata), summary, [], [], ListTensors(source.Tensors));
    }

    private static InspectionReport InspectAdapter(string directory)
    {
        using var adapter = PeftAdapter.Load(directory);
        var config = adapter.Config;
        var summary = new List<KeyValuePair<string, string>>
        {
            new("peft_type", config.PeftType.ToString().ToUpperInvariant()),
            new("base_model_name_or_path", config.BaseModelNameOrPath ?? "(none)"),
            new("task_type", config.TaskType ?? "(none)"),
        };
        var modules = new List<InspectedModule>();
        if (config.PeftType == PeftType.Lora)
        {
            summary.Add(new("r", config.R.ToString(CultureInfo.InvariantCulture)));
            summary.Add(new("lora_alpha", Number(config.LoraAlpha)));
            summary.Add(new("use_rslora", Bool(config.UseRsLora)));
            summary.Add(new("scaling", Number(LoraModule.ComputeScaling(config.LoraAlpha, config.R, config.UseRsLora)) + (config.UseRsLora ? " (lora_alpha / sqrt(r))" : " (lora_alpha / r)")));
            if (config.RankPattern.Count > 0)
                summary.Add(new("rank_pattern", string.Join(", ", config.RankPattern.Select(kv => $"{kv.Key}: {kv.Value}"))));
            if (config.AlphaPattern.Count > 0)
                summary.Add(new("alpha_pattern", string.Join(", ", config.AlphaPattern.Select(kv => $"{kv.Key}: {Number(kv.Value)}"))));
            summary.Add(new("bias", config.Bias.ToString().ToLowerInvariant()));
            if (config.LayersToTransform is { } layers)
                summary.Add(new("layers_to_transform", string.Join(", ", layers)));
            foreach (var m in adapter.LoraModules.Values.OrderBy(m => m.ModulePath, NaturalPathComparer.Instance))
                modules.Add(new InspectedModule(m.ModulePath, m.IsEmbedding ? "lora-embedding" : "lora", m.Rank, m.Alpha, m.Scaling,
                    m.InFeatures, m.OutFeatures, null, m.A.ElementCount + m.B.ElementCount + (m.BBias?.ElementCount ?? 0)));
        }
        else
        {
            if (config.FeedforwardModules is { } ff)
                summary.Add(new("feedforward_modules", ff.ToString()));
            foreach (var m in adapter.Ia3Modules.Values.OrderBy(m => m.ModulePath, NaturalPathComparer.Instance))
                modules.Add(new InspectedModule(m.ModulePath, "ia3", null, null, null, m.Length, null, m.IsFeedForward, m.Vector.ElementCount));
        }
        summary.Add(new("fan_in_fan_out", Bool(config.FanInFanOut)));
        summary.Add(new("target_modules", config.TargetModules.ToString()));
        if (config.ModulesToSave is { Count: > 0 } save)
            summary.Add(new("modules_to_save", string.Join(", ", save)));
        summary.Add(new("modules", modules.Count.ToString(CultureInfo.InvariantCulture)));

        var config0 = adapter.Config;
        IReadOnlyList<string> targets = config0.TargetModules.Names ?? [config0.TargetModules.Pattern!];
        using var weights = SafetensorsFile.Open(adapter.WeightsPath!);
        summary.Add(new("dtypes", DTypeCounts(weights.Tensors)));
        string configPath = System.IO.Path.Combine(directory, AdapterConfig.FileName);
        return new InspectionReport(InspectionKind.Adapter, directory, [configPath, weights.SourcePath], Copy(weights.Metadata), summary, targets,
            modules, ListTensors(weights.Tensors));
    }

    private static InspectionReport InspectModel(string directory)
    {
        using var model = HuggingFaceModelDirectory.Open(directory);
        var c = model.Config;
        var summary = new List<KeyValuePair<string, string>>();
        void Add(string key, object? value)
        {
            if (value is not null)
                summary.Add(new(key, value switch
                {
                    bool b => Bool(b),
                    double d => Number(d),
                    IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
                    _ => value.ToString()!,
                }));
        }
        Add("model_type", c.ModelType ?? "(none)");
        if (c.Architectures.Count > 0)
            Add("architectures", string.Join(", ", c.Architectures));
        Add("hidden_size", c.HiddenSize);
        Add("num_hidden_layers", c.NumHiddenLayers);
        Add("num_attention_heads", c.NumAttentionHeads);
        Add("num_key_value_heads", c.NumKeyValueHeads);
        Add("intermediate_size", c.IntermediateSize);
        Add("vocab_size", c.VocabSize);
        Add("max_position_embeddings", c.MaxPositionEmbeddings);
        Add("torch_dtype", c.TorchDType);
        Add("tie_word_embeddings", c.TieWordEmbeddings);
        Add("rope_theta", c.RopeTheta);
        Add("rms_norm_eps", c.RmsNormEps);
        Add("layer_norm_epsilon", c.LayerNormEpsilon);
        Add("weights", $"{model.Weights.Files.Count} file{(model.Weights.Files.Count == 1 ? "" : "s")}");
        Add("dtypes", DTypeCounts(model.Weights.Tensors));
        var t = model.Tokenizer;
        string[] tokenizerFiles = new[] { t.TokenizerJson, t.VocabJson, t.MergesTxt, t.SentencePieceModel, t.TokenizerConfigJson, t.SpecialTokensMapJson }
            .Where(p => p is not null).Select(p => System.IO.Path.GetFileName(p!)).ToArray();
        Add("tokenizer", tokenizerFiles.Length == 0 ? "(none)" : string.Join(", ", tokenizerFiles));
        var files = new List<string> { c.FilePath };
        files.AddRange(model.Weights.Files);
        return new InspectionReport(InspectionKind.Model, directory, files, Copy(model.Weights.Metadata), summary, [], [], ListTensors(model.Weights.Tensors));
    }

    private static List<InspectedTensor> ListTensors(IEnumerable<SafetensorsTensorInfo> tensors) =>
        tensors.Select(t => new InspectedTensor(t.Name, t.DType.SafetensorsName(), t.Shape.ToArray(), t.ByteLength, t.ElementCount,
            System.IO.Path.GetFileName(t.FilePath))).ToList();

    private static string DTypeCounts(IEnumerable<SafetensorsTensorInfo> tensors) =>
        string.Join(", ", tensors.GroupBy(t => t.DType).OrderByDescending(g => g.Count()).Select(g => $"{g.Key.SafetensorsName()} x{g.Count()}"));

    private static Dictionary<string, string> Copy(IReadOnlyDictionary<string, string> metadata) =>
        metadata.ToDictionary(kv => kv.Key, kv => kv.Value, StringComparer.Ordinal);

    private static string Number(double value) => value.ToString("R", CultureInfo.InvariantCulture);

    private static string Bool(bool value) => value ? "true" : "false";

    /// <summary>The report as one indented JSON object (stable field names; for scripts).</summary>
    public string ToJson()
    {
        using var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            w.WriteStartObject();
            w.WriteString("kind", Kind.ToString().ToLowerInvariant());
            w.WriteString("path", Path);
            w.WriteStartArray("files");
            foreach (string f in Files)
                w.WriteStringValue(f);
            w.WriteEndArray();
            w.WriteStartObject("summary");
            foreach (var kv in Summary)
                w.WriteString(kv.Key, kv.Value);
            w.WriteEndObject();
            w.WriteStartObject("metadata");
            foreach (var kv in Metadata.OrderBy(kv => kv.Key, StringComparer.Ordinal))
                w.WriteString(kv.Key, kv.Value);
            w.WriteEndObject();
            w.WriteStartArray("target_modules");
            foreach (string t in Targets)
                w.WriteStringValue(t);
            w.WriteEndArray();
            w.WriteStartArray("modules");
            foreach (var m in Modules)
            {
                w.WriteStartObject();
                w.WriteString("module", m.Module);
                w.WriteString("type", m.Type);
                if (m.Rank is { } r) w.WriteNumber("r", r);
                if (m.Alpha is { } a) w.WriteNumber("alpha", a);
                if (m.Scaling is { } s) w.WriteNumber("scaling", s);
                w.WriteNumber("in_features", m.InFeatures);
                if (m.OutFeatures is { } o) w.WriteNumber("out_features", o);
                if (m.FeedForward is { } ff) w.WriteBoolean("feedforward", ff);
                w.WriteNumber("parameters", m.Parameters);
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteStartArray("tensors");
            foreach (var t in Tensors)
            {
                w.WriteStartObject();
                w.WriteString("name", t.Name);
                w.WriteString("dtype", t.DType);
                w.WriteStartArray("shape");
                foreach (long d in t.Shape)
                    w.WriteNumberValue(d);
                w.WriteEndArray();
                w.WriteNumber("bytes", t.Bytes);
                w.WriteString("file", t.File);
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteNumber("total_parameters", TotalParameters);
            w.WriteNumber("total_bytes", TotalBytes);
            w.WriteNumber("tensor_count", Tensors.Count);
            w.WriteEndObject();
        }
        return Encoding.UTF8.GetString(buffer.ToArray());
    }
}
