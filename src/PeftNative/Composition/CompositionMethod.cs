namespace PeftNative.Composition;

/// <summary>
/// How the terms of a composition combine (DESIGN.md section 1; README "Composition" says which
/// formula each follows and where it departs from PEFT).
/// </summary>
public enum CompositionMethod
{
    /// <summary>The paper's parameter-space arithmetic (default): LoRA A = sum |c_i| A_i, B = sum c_i B_i; (IA)^3 linear in l - 1.</summary>
    Paper,
    /// <summary>The exact weighted sum of the updates as one LoRA of the summed rank.</summary>
    Exact,
    /// <summary>The exact sum truncated to a rank, from the factors (QR + small SVD); PEFT's "svd" with the scaling applied once.</summary>
    Svd,
    /// <summary>PEFT "linear": A' = sum a_i A_i, B' = sum b_i B_i with a_i = sign(c_i) sqrt|c_i|, b_i = sqrt|c_i|, c_i = w_i s_i.</summary>
    Linear,
    /// <summary>PEFT "cat": exact, rank sum r_i (same update as <see cref="Exact"/>, PEFT's factor layout).</summary>
    Cat,
    /// <summary>PEFT "ties" on the A and B stacks separately.</summary>
    Ties,
    /// <summary>PEFT "ties_svd": TIES on the dense updates, then SVD to the rank.</summary>
    TiesSvd,
    /// <summary>PEFT "dare_linear" on the A and B stacks separately.</summary>
    DareLinear,
    /// <summary>PEFT "dare_ties" on the A and B stacks separately.</summary>
    DareTies,
    /// <summary>PEFT "dare_linear_svd".</summary>
    DareLinearSvd,
    /// <summary>PEFT "dare_ties_svd".</summary>
    DareTiesSvd,
    /// <summary>PEFT "magnitude_prune" on the A and B stacks separately.</summary>
    MagnitudePrune,
    /// <summary>PEFT "magnitude_prune_svd".</summary>
    MagnitudePruneSvd,
}

/// <summary>Names of <see cref="CompositionMethod"/> values as the CLI and PEFT spell them ("paper", "ties_svd", ...).</summary>
public static class CompositionMethodNames
{
    /// <summary>The snake_case name ("dare_ties_svd").</summary>
    public static string Name(this CompositionMethod method) => method switch
    {
        CompositionMethod.Paper => "paper",
        CompositionMethod.Exact => "exact",
        CompositionMethod.Svd => "svd",
        CompositionMethod.Linear => "linear",
        CompositionMethod.Cat => "cat",
        CompositionMethod.Ties => "ties",
        CompositionMethod.TiesSvd => "ties_svd",
        CompositionMethod.DareLinear => "dare_linear",
        CompositionMethod.DareTies => "dare_ties",
        CompositionMethod.DareLinearSvd => "dare_linear_svd",
        CompositionMethod.DareTiesSvd => "dare_ties_svd",
        CompositionMethod.MagnitudePrune => "magnitude_prune",
        CompositionMethod.MagnitudePruneSvd => "magnitude_prune_svd",
        _ => throw new ArgumentOutOfRangeException(nameof(method), method, "unknown method"),
    };

    /// <summary>Parses a name (case-insensitive; '-' accepted for '_').</summary>
    /// <exception cref="ArgumentException">Unknown name; the message lists the known ones.</exception>
    public static CompositionMethod Parse(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        string n = name.Trim().Replace('-', '_');
        foreach (var m in Enum.GetValues<CompositionMethod>())
            if (string.Equals(m.Name(), n, StringComparison.OrdinalIgnoreCase))
                return m;
        throw new ArgumentException($"unknown method '{name}' (expected one of {string.Join(", ", Enum.GetValues<CompositionMethod>().Select(m => m.Name()))})", nameof(name));
    }

    /// <summary>True for the methods that end with an SVD to a target rank.</summary>
    public static bool IsSvd(this CompositionMethod method) =>
        method is CompositionMethod.Svd or CompositionMethod.TiesSvd or CompositionMethod.DareLinearSvd or CompositionMethod.DareTiesSvd or CompositionMethod.MagnitudePruneSvd;
}
