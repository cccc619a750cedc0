namespace PeftNative.Composition;

/// <summary>How TIES elects the sign of each element (PEFT's majority_sign_method).</summary>
public enum MajoritySignMethod
{
    /// <summary>Sign of the sum of the trimmed values ("total").</summary>
    Total,
    /// <summary>Sign of the sum of the signs ("frequency").</summary>
    Frequency,
}
