namespace PeftNative.Demo;

/// <summary>One of the demo's adapters: its name, its kind and the task it pretends to be trained on.</summary>
/// <param name="Name">Directory and expression name.</param>
/// <param name="IsIa3">An (IA)^3 adapter rather than LoRA.</param>
/// <param name="Task">Adapters of one task share a direction (like modules trained on splits of one dataset).</param>
/// <param name="Seed">Seed of the adapter's own noise.</param>
public sealed record DemoAdapterSpec(string Name, bool IsIa3, string Task, ulong Seed);
