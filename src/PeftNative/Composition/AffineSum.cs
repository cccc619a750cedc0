using PeftNative.Backends;

namespace PeftNative.Composition;

/// <summary>
/// out = constant + sum_i w_i x_i through <see cref="IKernelBackend.Affine"/>, which takes one input
/// dtype per call: inputs of mixed dtypes are first converted to f32 temporaries (a rare path;
/// inputs of one dtype go straight to the kernel, each read once).
/// </summary>
internal static class AffineSum
{
    public static void Run(IKernelBackend backend, Tensor[] inputs, float[] weights, float constant, Tensor output)
    {
        if (inputs.All(t => t.DType == inputs[0].DType))
        {
            backend.Affine(inputs, weights, constant, output);
            return;
        }
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
            backend.Affine(f32, weights, constant, output);
        }
        finally
        {
            foreach (var t in converted)
                t.Dispose();
        }
    }
}
