using System.Collections.ObjectModel;
using System.Text.RegularExpressions;

namespace PeftNative.Adapters;

public sealed partial class AdapterConfig
{
    /// <summary>The validated, typed view of the JSON (immutable once built; a setter builds a new one).</summary>
    private sealed class ConfigState
    {
        public PeftType PeftType { get; init; }
        public string? TaskType { get; init; }
        public string? BaseModelNameOrPath { get; init; }
        public string? Revision { get; init; }
        public bool InferenceMode { get; init; }
        public required ModuleSelector TargetModules { get; init; }
        public ModuleSelector? ExcludeModules { get; init; }
        public IReadOnlyList<string>? ModulesToSave { get; init; }
        public required Regex[] ModulesToSaveRegexes { get; init; }
        public bool FanInFanOut { get; init; }
        public LoraState? Lora { get; set; }
        public ModuleSelector? FeedforwardModules { get; set; }
        public bool InitIa3Weights { get; set; } = true;
    }

    /// <summary>The LoRA-only fields.</summary>
    private sealed class LoraState
    {
        public int R { get; init; }
        public double LoraAlpha { get; init; }
        public bool UseRsLora { get; init; }
        public required PatternList<int> RankPattern { get; init; }
        public required PatternList<double> AlphaPattern { get; init; }
        public LoraBiasMode Bias { get; init; }
        public bool LoraBias { get; init; }
        public IReadOnlyList<int>? LayersToTransform { get; init; }
        public IReadOnlyList<string>? LayersPattern { get; init; }
        public required Regex[] LayerRegexes { get; init; }
        public bool UseDora { get; init; }
        public required string InitLoraWeights { get; init; }
        public double LoraDropout { get; init; }
    }

    private readonly record struct PatternEntry<T>(string Key, Regex Regex, T Value);

    /// <summary>rank_pattern / alpha_pattern in file order: PEFT's get_pattern_key returns the first key that matches.</summary>
    private sealed class PatternList<T>(IReadOnlyList<PatternEntry<T>> entries)
    {
        public static readonly PatternList<T> Empty = new([]);

        public bool TryMatch(string modulePath, out PatternEntry<T> entry)
        {
            foreach (var e in entries)
            {
                if (e.Regex.IsMatch(modulePath))
                {
                    entry = e;
                    return true;
                }
            }
            entry = default;
            return false;
        }

        public IReadOnlyDictionary<string, T> AsDictionary()
        {
            var d = new OrderedDictionary<string, T>(StringComparer.Ordinal);
            foreach (var e in entries)
                d[e.Key] = e.Value;
            return new ReadOnlyDictionary<string, T>(d);
        }
    }
}
