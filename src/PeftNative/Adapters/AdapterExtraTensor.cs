namespace PeftNative.Adapters;

/// <summary>
/// A tensor an adapter carries beside its LoRA or (IA)^3 weights, kept under the name it was saved
/// with. <see cref="BaseTensorName"/> is the base model's tensor it stands for (the saved name
/// without <c>base_model.model.</c> and without a <c>modules_to_save.&lt;adapter&gt;</c> or
/// <c>base_layer</c> wrapper).
/// </summary>
public sealed record AdapterExtraTensor(string Name, string BaseTensorName, AdapterExtraTensorKind Kind, Tensor Tensor);
