namespace PeftNative.Composition.Diagnostics;

/// <summary>
/// What the diagnostics keep of one module across several adapters: enough to give every
/// Frobenius inner product of their updates without the updates themselves. Adapters that lack
/// the module are not listed (their update is zero).
/// </summary>
internal abstract class ModuleUpdates(string module, int[] adapters)
{
    /// <summary>Module path.</summary>
    public string Module { get; } = module;

    /// <summary>Indices (into the adapter list the set was built from) of the adapters that have the module.</summary>
    public int[] Adapters { get; } = adapters;

    /// <summary>&lt;dW_p, dW_q&gt;_F for local indices p, q (positions in <see cref="Adapters"/>).</summary>
    public abstract double UpdateInner(int p, int q);

    /// <summary>Local index of adapter <paramref name="adapter"/>, or -1 when it lacks the module.</summary>
    public int LocalIndex(int adapter) => Array.IndexOf(Adapters, adapter);
}
