using PeftNative.Adapters;

namespace PeftNative.Composition.Diagnostics;

/// <summary>
/// One (IA)^3 module across adapters as its deltas l_p - 1, the "task vectors" the paper's
/// (IA)^3 arithmetic is linear in (DESIGN.md section 1); inner products are plain dot products.
/// </summary>
internal sealed class Ia3ModuleUpdates : ModuleUpdates
{
    private readonly double[][] _deltas;

    private Ia3ModuleUpdates(string module, int[] adapters, double[][] deltas) : base(module, adapters) => _deltas = deltas;

    /// <inheritdoc />
    public override double UpdateInner(int p, int q) => FactorMatrices.Dot(_deltas[p], _deltas[q]);

    /// <summary>Reads the vectors of the listed modules (one per adapter, same length and orientation).</summary>
    /// <exception cref="ArgumentException">Lengths or orientations differ.</exception>
    public static Ia3ModuleUpdates Compute(string module, int[] adapters, IReadOnlyList<string> names, IReadOnlyList<Ia3Module> modules)
    {
        for (int i = 1; i < modules.Count; i++)
        {
            if (modules[i].Length != modules[0].Length || modules[i].IsFeedForward != modules[0].IsFeedForward)
                throw new ArgumentException(
                    $"module {module}: adapter '{names[adapters[0]]}' scales {modules[0].Length} {Side(modules[0])} features but '{names[adapters[i]]}' {modules[i].Length} {Side(modules[i])} ones");
        }
        var deltas = modules.Select(m =>
        {
            var d = Composition.FactorMatrices.ToDoubles(m.Vector);
            for (int j = 0; j < d.Length; j++)
                d[j] -= 1.0;
            return d;
        }).ToArray();
        return new Ia3ModuleUpdates(module, adapters, deltas);
    }

    private static string Side(Ia3Module m) => m.IsFeedForward ? "input" : "output";
}
