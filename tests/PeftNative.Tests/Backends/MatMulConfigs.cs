using PeftNative.Backends;
using PeftNative.Backends.Managed;
using PeftNative.Backends.NativeCpu;
using PeftNative.Interop;

namespace PeftNative.Tests.Backends;

/// <summary>
/// One matrix-product configuration under test: a label for messages and a factory. A native-cpu
/// configuration where libpeft_native cannot load is reported as ignored with the loader's
/// reason (never a silent pass).
/// </summary>
public sealed class MatMulConfig
{
    private readonly Func<IMatMul> _create;

    internal MatMulConfig(string label, bool native, Func<IMatMul> create)
    {
        Label = label;
        IsNative = native;
        _create = create;
    }

    /// <summary>"native-cpu/avx2/t2", "managed/v256/t1".</summary>
    public string Label { get; }

    /// <summary>True for libpeft_native.</summary>
    public bool IsNative { get; }

    /// <summary>Creates the product (ignores the test when it cannot run here).</summary>
    public IMatMul Create()
    {
        if (IsNative && !TestBackends.NativeAvailable)
            Assert.Ignore($"{Label}: libpeft_native is not usable here: {TestBackends.NativeFailure}");
        return _create();
    }

    /// <inheritdoc />
    public override string ToString() => Label;
}

/// <summary>
/// The configurations every matrix-product test runs on: native-cpu at each ISA the CPU has ×
/// threads {1, 2} (and 3 at the best), managed at every vector width × threads {1, 2} (and Auto × 3).
/// </summary>
public static class MatMulConfigs
{
    /// <summary>Every configuration.</summary>
    public static IReadOnlyList<MatMulConfig> All { get; } = Build();

    /// <summary>TestCaseSource: configuration.</summary>
    public static IEnumerable<TestCaseData> Cases() => All.Select(c => new TestCaseData(c));

    /// <summary>TestCaseSource: configuration × W dtype × layout (true: W stored k × n).</summary>
    public static IEnumerable<TestCaseData> ByDTypeAndLayout() =>
        from c in All from d in TestBackends.KernelDTypes from im in new[] { false, true } select new TestCaseData(c, d, im);

    /// <summary>TestCaseSource: the best configuration of each implementation.</summary>
    public static IEnumerable<TestCaseData> Best() =>
    [
        new TestCaseData(All.Last(c => c.IsNative)),
        new TestCaseData(All.Last(c => !c.IsNative)),
    ];

    private static List<MatMulConfig> Build()
    {
        var list = new List<MatMulConfig>();
        var isas = TestBackends.NativeIsas;
        foreach (var isa in isas)
            foreach (int t in new[] { 1, 2 })
                list.Add(Native(isa, t));
        list.Add(Native(isas[^1], 3));
        foreach (var w in new[] { ManagedVectorWidth.Scalar, ManagedVectorWidth.V128, ManagedVectorWidth.V256, ManagedVectorWidth.V512 })
            foreach (int t in new[] { 1, 2 })
                list.Add(Managed(w, t));
        list.Add(Managed(ManagedVectorWidth.Auto, 3));
        return list;
    }

    private static MatMulConfig Native(NativeIsa isa, int threads) =>
        new($"native-cpu/{isa.ToString().ToLowerInvariant()}/t{threads}", true, () => new NativeCpuMatMul(threads, isa));

    private static MatMulConfig Managed(ManagedVectorWidth width, int threads) =>
        new($"managed/{width.ToString().ToLowerInvariant()}/t{threads}", false, () => new ManagedMatMul(threads, width));
}
