using System.Collections.Concurrent;

namespace PeftNative.Tests;

/// <summary>
/// The float64 reference result (and per-element term magnitude) of a case, computed once per
/// test run and shared by every backend configuration: the inputs of a case are a pure function
/// of its name (the seed), so its reference result is too.
/// </summary>
public static class ReferenceCache
{
    private static readonly ConcurrentDictionary<string, (double[] Expected, double[]? Magnitude)> Cache = new();

    private static readonly ConcurrentDictionary<string, object> Inputs = new();

    /// <summary>Returns the cached result for <paramref name="caseName"/>, computing it on first use.</summary>
    public static (double[] Expected, double[]? Magnitude) Get(string caseName, Func<(double[], double[]?)> compute) =>
        Cache.GetOrAdd(caseName, _ => compute());

    /// <summary>Any per-case data (input bytes, expected bits) built once per run from the case's seed.</summary>
    public static T GetData<T>(string caseName, Func<T> build) where T : class =>
        (T)Inputs.GetOrAdd(caseName, _ => build());
}
