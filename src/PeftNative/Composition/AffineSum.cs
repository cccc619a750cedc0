using PeftNative.Backends;

namespace PeftNative.Composition;

/// <summary>
/// out = constant + sum_i w_i x_i through <see cref="IKernelBackend.Affine"/>, which takes one input
/// dtype per call: inputs of mixed dtypes are first converted to f32 temporaries (a rare path;
/// inputs of one dtype go straight to the kernel, each read once).
/// </summary>
internal static class AffineSum
{
    public static void Run(IKernelBackend backend, Tensor[] inputs, float[] weights, float constant, Tensor output) =>
        Sum(backend, inputs, weights, constant, output, report: false);

    /// <summary>
    /// The sum through <see cref="IKernelBackend.AffineReportingNonFinite"/>: true when the stored
    /// output holds NaN or ±Inf (for results that are checked and not read again soon).
    /// </summary>
    public static bool RunReportingNonFinite(IKernelBackend backend, Tensor[] inputs, float[] weights, float constant, Tensor output) =>
        Sum(backend, inputs, weights, constant, output, report: true);

    private static bool Sum(IKernelBackend backend, Tensor[] inputs, float[] weights, float constant, Tensor output, bool report)
    {
        if (inputs.All(t => t.DType == inputs[0].DType))
            return Kernel(backend, inputs, weights, constant, output, report);
        var converted = new List<Tensor>();
        try
        {
            var f32 = new Tensor[inputs.Length];
            for (int i = 0; i < inputs.Length; i++)
            {
                if (inputs[i].DType == DType.F32)
                {
                    f32[i] = inputs[i];
                    continue;
                }
                var t = Tensor.Allocate(DType.F32, inputs[i].Shape.ToArray());
                converted.Add(t);
                backend.Convert(inputs[i], t);
                f32[i] = t;
            }
            return Kernel(backend, f32, weights, constant, output, report);
        }
        finally
        {
            foreach (var t in converted)
                t.Dispose();
        }
    }

    private static bool Kernel(IKernelBackend backend, Tensor[] inputs, float[] weights, float constant, Tensor output, bool report)
    {
        if (report)
            return backend.AffineReportingNonFinite(inputs, weights, constant, output);
        backend.Affine(inputs, weights, constant, output);
        return false;
    }
}
