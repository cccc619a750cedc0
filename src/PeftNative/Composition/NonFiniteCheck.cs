namespace PeftNative.Composition;

/// <summary>
/// The composition's refusal of NaN or ±Inf in a result (unless allowed), naming the module,
/// tensor and element (<see cref="NonFiniteScan"/> finds it). The paper method's fast path learns
/// from the kernel whether a result holds one (<see cref="Backends.IKernelBackend.AffineReportingNonFinite"/>)
/// and only then calls this; the other methods call it on every result.
/// </summary>
internal static class NonFiniteCheck
{
    /// <summary>Throws unless every element is finite (or non-finite values are allowed).</summary>
    /// <exception cref="InvalidDataException">A NaN or ±Inf, naming the module, tensor and index.</exception>
    public static void Require(Tensor tensor, string modulePath, string tensorName, bool allowNonFinite)
    {
        if (allowNonFinite)
            return;
        long index = NonFiniteScan.IndexOf(tensor);
        if (index >= 0)
            throw new InvalidDataException(
                $"module {modulePath}: the composed {tensorName} has a non-finite value at element {index} (an input holds NaN/Inf, or the sum overflowed {tensor.DType}); " +
                "set AllowNonFinite to keep it");
    }
}
