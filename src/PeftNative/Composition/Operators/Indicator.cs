using System.Runtime.CompilerServices;

namespace PeftNative.Composition.Operators;

/// <summary>
/// 1.0 for true, 0.0 for false without a branch. The masks and sign tests of the merge operators are
/// data-dependent coin flips (random DARE masks, random signs), where a branch mispredicts about half
/// the time; reading the bool's byte keeps the inner loops branch-free.
/// </summary>
internal static class Indicator
{
    /// <summary>The bool as 0 or 1 (C# bools are 0 or 1).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int Of(bool value) => Unsafe.As<bool, byte>(ref value);
}
