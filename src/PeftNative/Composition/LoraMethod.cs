namespace PeftNative.Composition;

/// <summary>
/// One way of combining LoRA modules, applied module by module by <see cref="AdapterComposer"/>:
/// <see cref="Prepare"/> checks everything the method needs over all modules before any work is
/// done (so a refusal costs nothing), then <see cref="ComposeModule"/> runs once per target.
/// </summary>
internal abstract class LoraMethod
{
    /// <summary>Checks the inputs and makes the decisions that span modules; may add warnings.</summary>
    /// <exception cref="ArgumentException">The inputs do not suit the method (the message names the module and adapters).</exception>
    public virtual void Prepare(TargetAlignment inputs, List<string> warnings)
    {
    }

    /// <summary>Composes the module at <paramref name="path"/> from the terms that have it, adding the result to <paramref name="output"/>.</summary>
    public abstract void ComposeModule(string path, IReadOnlyList<LoraInput> inputs, LoraOutput output);

    /// <summary>
    /// True when <see cref="ComposeModule"/> may run for several modules at once (no per-call state).
    /// Per-module work on LoRA factors is small (a few hundred KiB), too small to spread one kernel call
    /// over threads, so the composer spreads modules instead.
    /// </summary>
    public virtual bool ModulesInParallel => false;

    /// <summary>Throws unless every input of every module has the same rank at that module.</summary>
    /// <exception cref="ArgumentException">Two inputs differ, naming both, the module and the methods that accept it.</exception>
    protected static void RequireEqualRanks(TargetAlignment alignment, string method)
    {
        foreach (string path in alignment.ModulePaths)
        {
            var inputs = alignment.Lora(path);
            var first = inputs[0];
            foreach (var x in inputs)
            {
                if (x.Module.Rank != first.Module.Rank)
                    throw new ArgumentException(
                        $"method {method}: module {path} has rank {first.Module.Rank} in '{first.Adapter}' but rank {x.Module.Rank} in '{x.Adapter}'; " +
                        $"{method} combines the factors element by element and needs equal ranks (methods exact, cat and svd accept different ranks)");
            }
        }
    }

    /// <summary>The largest rank of any input module (the default target rank of the SVD methods, as in PEFT).</summary>
    protected static int MaxInputRank(TargetAlignment alignment) =>
        alignment.ModulePaths.SelectMany(p => alignment.Lora(p)).Max(x => x.Module.Rank);
}
