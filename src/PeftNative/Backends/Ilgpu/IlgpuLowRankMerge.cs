using ILGPU;
using ILGPU.Runtime;

namespace PeftNative.Backends.Ilgpu;

/// <summary>
/// Multi-adapter low-rank merge <c>W += Σ_k s_k B_k A_k</c> (or its transpose) on an ILGPU
/// accelerator, as an update of W's storage (rows × cols) by a product Left · Right:
/// <list type="number">
/// <item>A pack kernel per update widens its factors to f32 into Left (rows × R, R = Σ r_k, the
/// scale folded in, zero-padded to whole tiles of <see cref="TileRows"/> rows) and Right
/// (R × cols). Not transposed: Left = [s_1 B_1 | … | s_K B_K], Right = [A_1; …; A_K].
/// fan_in_fan_out (W is in × out): Left = the scaled Aᵀ, Right = Bᵀ.</item>
/// <item>The merge kernel gives each work item one column of a tile of <see cref="TileRows"/>
/// rows: it reads those W elements once, accumulates Σ_q Left[row, q] · Right[q, col] in f32
/// registers (each Right value loaded once serves every row of the tile), and writes them back
/// with one rounding. Neighbouring work items take neighbouring columns, so on a GPU the loads
/// and stores of W and Right are coalesced and Left is a broadcast.</item>
/// </list>
/// </summary>
internal static class IlgpuLowRankMerge
{
    /// <summary>Rows of W per work item.</summary>
    internal const int TileRows = 4;

    /// <summary>Pack kernel: one update's factors into Left and Right (f32).</summary>
    internal static void Pack<T, E>(ArrayView<T> b, ArrayView<T> a, float scale, long outFeatures, long inFeatures, int rank, int offset, int totalRank, int fanInFanOut, ArrayView<float> left, ArrayView<float> right)
        where T : unmanaged where E : struct, IIlgpuElement<T>
    {
        long stride = (long)Grid.DimX * Group.DimX;
        long first = Grid.GlobalLinearIndex;
        for (long j = first; j < outFeatures * rank; j += stride)
        {
            long o = j / rank;
            long q = j - o * rank;
            float v = default(E).Load(b, j);
            if (fanInFanOut == 0)
                left[o * totalRank + offset + q] = scale * v;
            else
                right[(offset + q) * outFeatures + o] = v;
        }
        for (long j = first; j < rank * inFeatures; j += stride)
        {
            long q = j / inFeatures;
            long i = j - q * inFeatures;
            float v = default(E).Load(a, j);
            if (fanInFanOut == 0)
                right[(offset + q) * inFeatures + i] = v;
            else
                left[i * totalRank + offset + q] = scale * v;
        }
    }

    /// <summary>Merge kernel: W[row, col] += Σ_q Left[row, q] · Right[q, col], one pass over W.</summary>
    internal static void Merge<T, E>(ArrayView<T> weight, ArrayView<float> left, ArrayView<float> right, long rows, long cols, int totalRank)
        where T : unmanaged where E : struct, IIlgpuElement<T>
    {
        long stride = (long)Grid.DimX * Group.DimX;
        long work = (rows + TileRows - 1) / TileRows * cols;
        for (long item = Grid.GlobalLinearIndex; item < work; item += stride)
        {
            long tile = item / cols;
            long col = item - tile * cols;
            long row = tile * TileRows;
            long valid = rows - row;
            long at = row * cols + col;
            // Rows past the end of W exist only in Left's zero padding: they accumulate zeros and are never stored.
            float w0 = default(E).Load(weight, at);
            float w1 = valid > 1 ? default(E).Load(weight, at + cols) : 0f;
            float w2 = valid > 2 ? default(E).Load(weight, at + 2 * cols) : 0f;
            float w3 = valid > 3 ? default(E).Load(weight, at + 3 * cols) : 0f;
            long l = row * totalRank;
            for (int q = 0; q < totalRank; q++)
            {
                float r = right[q * cols + col];
                w0 += left[l + q] * r;
                w1 += left[l + totalRank + q] * r;
                w2 += left[l + 2 * totalRank + q] * r;
                w3 += left[l + 3 * totalRank + q] * r;
            }
            default(E).Store(weight, at, w0);
            if (valid > 1)
                default(E).Store(weight, at + cols, w1);
            if (valid > 2)
                default(E).Store(weight, at + 2 * cols, w2);
            if (valid > 3)
                default(E).Store(weight, at + 3 * cols, w3);
        }
    }

    /// <summary>Runs the merge; arguments are valid, W non-empty, at least one update.</summary>
    public static void Run(IlgpuDevice device, Tensor weight, ReadOnlySpan<LowRankUpdate> updates, bool fanInFanOut)
    {
        long rows = weight.Shape[0], cols = weight.Shape[1];
        long totalRank = 0;
        foreach (var u in updates)
            totalRank += u.Rank;
        if (totalRank > int.MaxValue)
            throw new ArgumentException($"lowrank_merge: the total rank {totalRank} is too large for the ilgpu backend", nameof(updates));
        long paddedRows = (rows + TileRows - 1) / TileRows * TileRows;
        using var left = device.Allocate<float>(paddedRows * totalRank);
        using var right = device.Allocate<float>(totalRank * cols);
        left.MemSetToZero();
        int offset = 0;
        foreach (var u in updates)
        {
            var pack = new PackLaunch(device, u, offset, (int)totalRank, fanInFanOut, left.View, right.View);
            IlgpuDTypeDispatch.One(u.B.DType, ref pack);
            offset += (int)u.Rank;
        }
        var merge = new MergeLaunch(device, weight, left.View, right.View, (int)totalRank);
        IlgpuDTypeDispatch.One(weight.DType, ref merge);
    }

    private readonly struct PackLaunch(IlgpuDevice device, LowRankUpdate u, int offset, int totalRank, bool fanInFanOut, ArrayView<float> left, ArrayView<float> right) : IIlgpuLaunch
    {
        void IIlgpuLaunch.Launch<T, E>()
        {
            using var b = device.Allocate<T>(u.B.ElementCount);
            using var a = device.Allocate<T>(u.A.ElementCount);
            IlgpuDevice.Upload(u.B, b.View);
            IlgpuDevice.Upload(u.A, a.View);
            long outFeatures = u.B.Shape[0], inFeatures = u.A.Shape[1];
            var launch = device.Kernel<Action<ArrayView<T>, ArrayView<T>, float, long, long, int, int, int, int, ArrayView<float>, ArrayView<float>>,
                Action<KernelConfig, ArrayView<T>, ArrayView<T>, float, long, long, int, int, int, int, ArrayView<float>, ArrayView<float>>>(
                Pack<T, E>, static (acc, k) => acc.LoadStreamKernel(k));
            launch(device.Config(Math.Max(u.B.ElementCount, u.A.ElementCount)), b.View, a.View, u.Scale, outFeatures, inFeatures, (int)u.Rank, offset, totalRank, fanInFanOut ? 1 : 0, left, right);
            // The factor buffers are freed when this returns: finish the pack before that.
            device.Accelerator.Synchronize();
        }
    }

    private readonly struct MergeLaunch(IlgpuDevice device, Tensor weight, ArrayView<float> left, ArrayView<float> right, int totalRank) : IIlgpuLaunch
    {
        void IIlgpuLaunch.Launch<T, E>()
        {
            long rows = weight.Shape[0], cols = weight.Shape[1];
            using var w = device.Allocate<T>(weight.ElementCount);
            IlgpuDevice.Upload(weight, w.View);
            var launch = device.Kernel<Action<ArrayView<T>, ArrayView<float>, ArrayView<float>, long, long, int>,
                Action<KernelConfig, ArrayView<T>, ArrayView<float>, ArrayView<float>, long, long, int>>(
                Merge<T, E>, static (acc, k) => acc.LoadStreamKernel(k));
            launch(device.Config((rows + TileRows - 1) / TileRows * cols), w.View, left, right, rows, cols, totalRank);
            device.Download(w.View, weight);
        }
    }
}
