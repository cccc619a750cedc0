namespace PeftNative.Backends;

/// <summary>
/// Dense matrix product for the forward pass: <c>y (m × n) = x (m × k) · Wᵀ</c> with W stored
/// (n × k) row-major (nn.Linear), or <c>y = x · W</c> with W stored (k × n) when
/// <c>weightIsInputMajor</c> (GPT-2 Conv1D). x and y are f32; W is f32, f16 or bf16 and is
/// converted on the fly; accumulation is f32. With <c>accumulate</c> the product is added to y.
/// </summary>
public interface IMatMul : IDisposable
{
    /// <summary>Short name: "native-cpu", "managed".</summary>
    string Name { get; }

    /// <summary>Worker threads the product uses.</summary>
    int Threads { get; }

    /// <summary>Computes y (m × n) from x (m × k) and W.</summary>
    /// <param name="x">Input rows, m × k, row-major.</param>
    /// <param name="m">Number of rows of x and y.</param>
    /// <param name="weight">W: (n, k), or (k, n) when <paramref name="weightIsInputMajor"/>.</param>
    /// <param name="weightIsInputMajor">W is stored input-major (k × n), as GPT-2's Conv1D.</param>
    /// <param name="y">Output rows, m × n, row-major.</param>
    /// <param name="accumulate">Add to y instead of overwriting it.</param>
    /// <exception cref="ArgumentException">Lengths disagree with m and W's shape, or W is not f32/f16/bf16.</exception>
    void MatMul(ReadOnlySpan<float> x, int m, Tensor weight, bool weightIsInputMajor, Span<float> y, bool accumulate = false);
}
