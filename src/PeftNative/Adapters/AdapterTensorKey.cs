namespace PeftNative.Adapters;

/// <summary>
/// A tensor name of a PEFT adapter file taken apart: the module it belongs to (path inside the
/// base model, without <c>base_model.model.</c>), what it is, and the adapter name if the key
/// carries one (PEFT strips it when saving; in-memory state dicts have it).
/// For <see cref="AdapterTensorKind.Other"/>, <see cref="ModulePath"/> is everything before the
/// last dot and <see cref="ParameterName"/> the last component ("weight", "bias").
/// </summary>
public readonly record struct AdapterTensorKey(string Name, string ModulePath, AdapterTensorKind Kind, string? AdapterName, string? ParameterName);
