using PeftNative.Adapters;

namespace PeftNative.Composition.Diagnostics;

/// <summary>
/// Builds the <see cref="ModuleUpdates"/> of every module any of the given adapters has (the
/// union: a module an adapter lacks is a zero update there), in order of first appearance
/// (adapters in the order given, modules in file order), modules in parallel.
/// </summary>
internal static class ModuleUpdateSet
{
    /// <summary>The per-module updates and the adapters' common PEFT type.</summary>
    /// <exception cref="ArgumentException">No adapters, a disposed adapter, mixed LoRA and (IA)^3, or a module whose shape differs between adapters.</exception>
    public static (PeftType Type, IReadOnlyList<ModuleUpdates> Modules) Build(IReadOnlyList<string> names, IReadOnlyList<PeftAdapter> adapters, CancellationToken cancellationToken)
    {
        if (adapters.Count == 0)
            throw new ArgumentException("at least one adapter is needed", nameof(adapters));
        for (int i = 0; i < adapters.Count; i++)
        {
            ArgumentNullException.ThrowIfNull(adapters[i], nameof(adapters));
            ObjectDisposedException.ThrowIf(adapters[i].IsDisposed, adapters[i]);
            if (adapters[i].Type != adapters[0].Type)
                throw new ArgumentException($"adapter '{names[i]}' is {Label(adapters[i].Type)} but '{names[0]}' is {Label(adapters[0].Type)}: their updates cannot be compared");
        }
        var type = adapters[0].Type;
        var paths = new List<string>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var a in adapters)
            foreach (string path in type == PeftType.Lora ? a.LoraModules.Keys : a.Ia3Modules.Keys)
                if (seen.Add(path))
                    paths.Add(path);

        var result = new ModuleUpdates[paths.Count];
        try
        {
            Parallel.For(0, paths.Count, new ParallelOptions { CancellationToken = cancellationToken }, i =>
            {
                string path = paths[i];
                var present = Enumerable.Range(0, adapters.Count).Where(j => Has(adapters[j], type, path)).ToArray();
                result[i] = type == PeftType.Lora
                    ? LoraModuleUpdates.Compute(path, present, names, present.Select(j => adapters[j].LoraModules[path]).ToList())
                    : Ia3ModuleUpdates.Compute(path, present, names, present.Select(j => adapters[j].Ia3Modules[path]).ToList());
            });
        }
        catch (AggregateException e)
        {
            // the caller wants the ArgumentException that names the module, not a wrapper
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(e.InnerExceptions[0]).Throw();
            throw;
        }
        return (type, result);
    }

    /// <summary>"LoRA" or "(IA)^3".</summary>
    public static string Label(PeftType type) => type == PeftType.Lora ? "LoRA" : "(IA)^3";

    private static bool Has(PeftAdapter a, PeftType type, string path) =>
        type == PeftType.Lora ? a.LoraModules.ContainsKey(path) : a.Ia3Modules.ContainsKey(path);
}
