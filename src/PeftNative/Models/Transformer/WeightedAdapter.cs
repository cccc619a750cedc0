using PeftNative.Adapters;

namespace PeftNative.Models.Transformer;

/// <summary>An adapter and the weight its update is applied with (negative weights subtract it).
/// For LoRA the update is <c>Weight · s · B A</c>; for (IA)^3 the vector is <c>1 + Weight · (l - 1)</c>.</summary>
/// <param name="Adapter">The adapter (not owned: the caller disposes it after the model).</param>
/// <param name="Weight">Its weight, 1 by default.</param>
public readonly record struct WeightedAdapter(PeftAdapter Adapter, float Weight = 1f);
