using PeftNative.Composition.Operators;

namespace PeftNative.Composition;

/// <summary>
/// Supplies DARE keep-masks: fills <paramref name="keep"/> for the tensor <paramref name="factor"/>
/// ("lora_A", "lora_B", or "delta" for the dense update B @ A in its out x in orientation) of the
/// term at <paramref name="termIndex"/> at module <paramref name="modulePath"/>. The composer's
/// default draws them with <see cref="DareMask"/> from options.Seed; tests inject the masks PEFT
/// drew so that its results can be reproduced.
/// </summary>
internal delegate void DareMaskSource(string modulePath, string factor, int termIndex, Span<bool> keep);

/// <summary>The default mask source.</summary>
internal static class DareMasks
{
    /// <summary>Masks from <see cref="DareMask"/>: element j of the stream (module, factor, term) kept when its hash falls below the density.</summary>
    public static DareMaskSource Seeded(ulong seed, double density) =>
        (path, factor, term, keep) => DareMask.Fill(seed, DareMask.Stream(path, factor, term), density, keep);
}
