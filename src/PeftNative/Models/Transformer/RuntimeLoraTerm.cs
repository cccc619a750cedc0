namespace PeftNative.Models.Transformer;

/// <summary>One LoRA applied at run time to a projection: <c>y += Scale · (B (A x) + bias)</c>,
/// Scale = adapter weight · s. A is (r × in) and B (out × r) as PEFT stores them (also for
/// fan_in_fan_out modules: only the base weight is transposed there).</summary>
internal sealed record RuntimeLoraTerm(Tensor A, Tensor B, float Scale, float[]? Bias)
{
    public int Rank => (int)A.Shape[0];
}
