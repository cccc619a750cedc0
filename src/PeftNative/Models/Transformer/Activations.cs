namespace PeftNative.Models.Transformer;

/// <summary>The activation functions of the supported models, as transformers defines them.</summary>
internal static class Activations
{
    private const float SqrtTwoOverPi = 0.7978845608028654f;

    /// <summary>gelu_new / gelu_pytorch_tanh: <c>0.5 x (1 + tanh(√(2/π) (x + 0.044715 x³)))</c>, in place.</summary>
    public static void GeluTanh(Span<float> x)
    {
        for (int i = 0; i < x.Length; i++)
        {
            float v = x[i];
            x[i] = 0.5f * v * (1f + MathF.Tanh(SqrtTwoOverPi * (v + 0.044715f * v * v * v)));
        }
    }

    /// <summary>SwiGLU's gate: <c>gate ← silu(gate) · up</c> with silu(x) = x / (1 + e^−x).</summary>
    public static void SiluMultiply(Span<float> gate, ReadOnlySpan<float> up)
    {
        for (int i = 0; i < gate.Length; i++)
        {
            float g = gate[i];
            gate[i] = g / (1f + MathF.Exp(-g)) * up[i];
        }
    }
}
