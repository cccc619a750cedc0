namespace PeftNative.Adapters;

public sealed partial class AdapterConfig
{
    /// <summary>
    /// True when PEFT would put this adapter on the module at <paramref name="modulePath"/> (e.g.
    /// <c>model.layers.0.self_attn.q_proj</c>, no <c>base_model.model.</c> prefix), following
    /// src/peft/tuners/tuners_utils.py check_target_module_exists: excluded modules and
    /// modules_to_save never match; a regex target must match the whole path; a list target
    /// matches the path or a ".name" suffix, and then <c>layers_to_transform</c> (with
    /// <c>layers_pattern</c>) must accept the layer index found in the path.
    /// </summary>
    /// <exception cref="AdapterFormatException">A config regex ran too long on this path.</exception>
    public bool Targets(string modulePath)
    {
        ArgumentNullException.ThrowIfNull(modulePath);
        var s = _state;
        try
        {
            if (s.ExcludeModules is { } exclude && (exclude.IsRegex || exclude.Names!.Count > 0) && exclude.Matches(modulePath))
                return false;
            foreach (var m in s.ModulesToSaveRegexes)
            {
                if (m.IsMatch(modulePath))
                    return false;
            }
            if (!s.TargetModules.Matches(modulePath))
                return false;
            // PEFT checks the layer only for list targets that matched by suffix, not by the whole path.
            if (s.TargetModules.IsRegex || s.TargetModules.Names!.Contains(modulePath, StringComparer.Ordinal)
                || s.Lora?.LayersToTransform is not { Count: > 0 } layers)
                return true;
            foreach (var layerRegex in s.Lora.LayerRegexes)
            {
                var m = layerRegex.Match(modulePath);
                if (!m.Success)
                    continue;
                // group 1 is the layer index, as in PEFT (int(layer_index.group(1))).
                return m.Groups[1].Success && int.TryParse(m.Groups[1].ValueSpan, System.Globalization.NumberStyles.None,
                    System.Globalization.CultureInfo.InvariantCulture, out int index) && layers.Contains(index);
            }
            return false;
        }
        catch (System.Text.RegularExpressions.RegexMatchTimeoutException e)
        {
            throw new AdapterFormatException(FilePath, null, $"a module regex took too long on \"{Truncate(modulePath)}\"", e);
        }
    }

    /// <summary>
    /// The LoRA rank PEFT gives the module: the value of the first <c>rank_pattern</c> key that
    /// matches (src/peft/utils/other.py get_pattern_key: <c>re.match(rf"(.*\.)?({key})$", path)</c>),
    /// else <c>r</c>.
    /// </summary>
    /// <exception cref="InvalidOperationException">Not a LoRA config.</exception>
    public int RankFor(string modulePath)
    {
        ArgumentNullException.ThrowIfNull(modulePath);
        var lora = Lora();
        return MatchPattern(lora.RankPattern, modulePath, out var e) ? e.Value : lora.R;
    }

    /// <summary>The LoRA alpha PEFT gives the module: first matching <c>alpha_pattern</c> key, else <c>lora_alpha</c>.</summary>
    /// <exception cref="InvalidOperationException">Not a LoRA config.</exception>
    public double AlphaFor(string modulePath)
    {
        ArgumentNullException.ThrowIfNull(modulePath);
        var lora = Lora();
        return MatchPattern(lora.AlphaPattern, modulePath, out var e) ? e.Value : lora.LoraAlpha;
    }

    /// <summary>The rank_pattern key that decides this module's rank, or null when <c>r</c> does.</summary>
    /// <exception cref="InvalidOperationException">Not a LoRA config.</exception>
    public string? RankPatternKeyFor(string modulePath) =>
        MatchPattern(Lora().RankPattern, modulePath ?? throw new ArgumentNullException(nameof(modulePath)), out var e) ? e.Key : null;

    /// <summary>The alpha_pattern key that decides this module's alpha, or null when <c>lora_alpha</c> does.</summary>
    /// <exception cref="InvalidOperationException">Not a LoRA config.</exception>
    public string? AlphaPatternKeyFor(string modulePath) =>
        MatchPattern(Lora().AlphaPattern, modulePath ?? throw new ArgumentNullException(nameof(modulePath)), out var e) ? e.Key : null;

    /// <summary>
    /// The LoRA scaling of the module: s = alpha / r, or alpha / sqrt(r) with <c>use_rslora</c>,
    /// using the module's own rank and alpha (<see cref="RankFor"/>, <see cref="AlphaFor"/>), as
    /// src/peft/tuners/lora/layer.py update_layer computes it.
    /// </summary>
    /// <exception cref="InvalidOperationException">Not a LoRA config.</exception>
    public double ScalingFor(string modulePath) => LoraModule.ComputeScaling(AlphaFor(modulePath), RankFor(modulePath), Lora().UseRsLora);

    /// <summary>
    /// (IA)^3: true when the module's vector scales its input features (a feed-forward module),
    /// false when it scales the output features. src/peft/tuners/ia3/model.py: a regex
    /// <c>feedforward_modules</c> must match the whole path, a list name need only end it.
    /// Always false for LoRA configs.
    /// </summary>
    /// <exception cref="AdapterFormatException">The regex ran too long on this path.</exception>
    public bool IsFeedForward(string modulePath)
    {
        ArgumentNullException.ThrowIfNull(modulePath);
        try
        {
            return _state.FeedforwardModules?.MatchesSuffix(modulePath) ?? false;
        }
        catch (System.Text.RegularExpressions.RegexMatchTimeoutException e)
        {
            throw new AdapterFormatException(FilePath, "feedforward_modules", $"the regex took too long on \"{Truncate(modulePath)}\"", e);
        }
    }

    /// <summary>True when the path falls under a <c>modules_to_save</c> entry (PEFT's <c>(^|.*\.){m}($|\..*)</c> rule).</summary>
    internal bool IsUnderModulesToSave(string path)
    {
        try
        {
            return _state.ModulesToSaveRegexes.Any(m => m.IsMatch(path));
        }
        catch (System.Text.RegularExpressions.RegexMatchTimeoutException e)
        {
            throw new AdapterFormatException(FilePath, "modules_to_save", $"the regex took too long on \"{Truncate(path)}\"", e);
        }
    }

    private bool MatchPattern<T>(PatternList<T> list, string modulePath, out PatternEntry<T> entry)
    {
        try
        {
            return list.TryMatch(modulePath, out entry);
        }
        catch (System.Text.RegularExpressions.RegexMatchTimeoutException e)
        {
            throw new AdapterFormatException(FilePath, null, $"a rank/alpha pattern took too long on \"{Truncate(modulePath)}\"", e);
        }
    }
}
