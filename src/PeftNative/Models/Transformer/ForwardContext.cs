using PeftNative.Backends;

namespace PeftNative.Models.Transformer;

/// <summary>What every layer of one model shares while running: the matrix product and the thread limit.</summary>
internal sealed class ForwardContext(IMatMul matMul)
{
    public IMatMul MatMul { get; } = matMul;

    public ParallelOptions Parallel { get; } = new() { MaxDegreeOfParallelism = Math.Max(1, matMul.Threads) };
}
