using PeftNative.Backends;
using PeftNative.SafeTensors;

namespace PeftNative.Merging;

/// <summary>
/// Produces the output bytes of one tensor at a time, straight into the writer's stream:
/// untouched tensors are copied byte for byte (or converted, when the dtype changes) chunk by
/// chunk from short-lived mapped views; a touched tensor is copied once into a working buffer,
/// changed there by the kernels (all LoRA terms in one low-rank merge call, (IA)^3 by one row or
/// column scaling), checked for NaN/Inf and written. Working buffers are reused across tensors,
/// so memory stays near the largest touched tensor (twice that, in f32, when the dtype changes).
/// </summary>
internal sealed class TensorStreamer(IKernelBackend backend, bool allowNonFinite) : IDisposable
{
    /// <summary>Chunk of an untouched tensor mapped and written at a time.</summary>
    public const long ChunkBytes = 64L << 20;

    private readonly WorkBuffer _work = new();
    private readonly WorkBuffer _output = new();
    private readonly Dictionary<string, long> _nonFinite = new(StringComparer.Ordinal);

    /// <summary>Non-finite values written, by tensor (only when allowed).</summary>
    public IReadOnlyDictionary<string, long> NonFiniteCounts => _nonFinite;

    /// <summary>Copies an untouched tensor unchanged.</summary>
    public static void Copy(MappedShard shard, SafetensorsTensorInfo info, Stream destination, CancellationToken cancellationToken)
    {
        for (long done = 0; done < info.ByteLength; done += ChunkBytes)
        {
            cancellationToken.ThrowIfCancellationRequested();
            using var range = shard.Map(info.DataBegin + done, Math.Min(ChunkBytes, info.ByteLength - done));
            destination.Write(range.Span);
        }
    }

    /// <summary>Writes an untouched float tensor converted to <paramref name="outputType"/>, chunk by chunk.</summary>
    public void Convert(MappedShard shard, SafetensorsTensorInfo info, DType outputType, Stream destination, CancellationToken cancellationToken)
    {
        int size = info.DType.SizeOf();
        long chunkElements = ChunkBytes / Math.Max(size, outputType.SizeOf());
        long count = info.ElementCount;
        for (long done = 0; done < count; done += chunkElements)
        {
            cancellationToken.ThrowIfCancellationRequested();
            long n = Math.Min(chunkElements, count - done);
            using var range = shard.Map(info.DataBegin + done * size, n * size);
            using var source = Tensor.FromPointer(range.Pointer, info.DType, [n]);
            using var converted = _output.View(outputType, [n]);
            backend.Convert(source, converted);
            WriteTensor(converted, destination, cancellationToken);
        }
    }

    /// <summary>Rows of W merged at a time by <see cref="ApplyByRowBlocks"/>: about this many bytes, so a block stays in the L2 cache from copy to write.</summary>
    public const long RowBlockBytes = 1L << 20;

    /// <summary>Applies <paramref name="edit"/> to the tensor and writes the result in <paramref name="outputType"/>.</summary>
    /// <exception cref="NonFiniteMergeException">The result holds NaN or ±Inf and they are not allowed.</exception>
    public void Apply(MappedShard shard, SafetensorsTensorInfo info, TensorEdit edit, DType outputType, Stream destination, CancellationToken cancellationToken)
    {
        if (edit.Replacement is null && edit.Scaling is null && edit.VectorAdds.Count == 0 && edit.LowRank.Count > 0 && !edit.FanInFanOut
            && info.DType == outputType && info.ByteLength > 0)
        {
            ApplyByRowBlocks(shard, info, edit, destination, cancellationToken);
            return;
        }
        long[] shape = [.. info.Shape];
        Tensor result;
        if (edit.Replacement is { } replacement)
        {
            result = _output.View(outputType, shape);
            if (replacement.DType.IsKernelFloat() && outputType.IsKernelFloat())
                backend.Convert(replacement, result);
            else
                replacement.AsBytes().CopyTo(result.AsBytes()); // same non-float dtype, checked by the plan
        }
        else
        {
            // Same dtype in and out: the kernels work on it in place (f32 accumulation, rounded once).
            // Otherwise, or to add vectors (Affine needs one dtype), work in f32 and round once at the end.
            DType workType = info.DType == outputType && edit.VectorAdds.Count == 0 ? outputType : DType.F32;
            var work = _work.View(workType, shape);
            if (info.ByteLength > 0)
            {
                using var range = shard.Map(info.DataBegin, info.ByteLength);
                using var source = Tensor.FromPointer(range.Pointer, info.DType, shape);
                backend.Convert(source, work);
            }
            cancellationToken.ThrowIfCancellationRequested();
            if (edit.LowRank.Count > 0)
                backend.LowRankMerge(work, [.. edit.LowRank], edit.FanInFanOut);
            if (edit.Scaling is { } s)
            {
                if (s.Rows)
                    backend.ScaleRows(work, s.Vector, s.Inverse);
                else
                    backend.ScaleColumns(work, s.Vector, s.Inverse);
            }
            foreach (var (vector, scale) in edit.VectorAdds)
            {
                using var v32 = Tensor.Allocate(DType.F32, shape);
                backend.Convert(vector, v32);
                backend.Affine([work, v32], [1f, scale], 0f, work);
            }
            result = work;
            if (workType != outputType)
            {
                result = _output.View(outputType, shape);
                backend.Convert(work, result);
            }
        }
        long bad = NonFiniteScan.Count(result);
        if (bad > 0)
        {
            if (!allowNonFinite)
                throw new NonFiniteMergeException(edit.TensorName, bad);
            _nonFinite[edit.TensorName] = bad;
        }
        WriteTensor(result, destination, cancellationToken);
    }

    /// <summary>
    /// The LoRA-only case in the weight's own dtype ([out, in], the common one): rows r0..r1 of
    /// W' = W + Σ s·B@A need only rows r0..r1 of each B, so W is merged block by block, each block
    /// copied from the mapping, merged by one kernel call covering every term, checked and written
    /// while it is still in the cache. W crosses memory once, read and written, as the probe's copy does.
    /// </summary>
    private unsafe void ApplyByRowBlocks(MappedShard shard, SafetensorsTensorInfo info, TensorEdit edit, Stream destination, CancellationToken cancellationToken)
    {
        long rows = info.Shape[0], cols = info.Shape[1];
        long rowBytes = info.DType.ByteLengthOf(cols);
        long blockRows = Math.Clamp(RowBlockBytes / Math.Max(rowBytes, 1), 1, rows);
        long bad = 0;
        using var range = shard.Map(info.DataBegin, info.ByteLength);
        var updates = new LowRankUpdate[edit.LowRank.Count];
        for (long r0 = 0; r0 < rows; r0 += blockRows)
        {
            cancellationToken.ThrowIfCancellationRequested();
            long n = Math.Min(blockRows, rows - r0);
            var block = _work.View(info.DType, [n, cols]);
            using (var source = Tensor.FromPointer(range.Pointer + (nint)(r0 * rowBytes), info.DType, [n, cols]))
                backend.Convert(source, block);
            for (int k = 0; k < updates.Length; k++)
            {
                var u = edit.LowRank[k];
                long rank = u.B.Columns;
                nint b = u.B.Pointer + (nint)u.B.DType.ByteLengthOf(r0 * rank);
                updates[k] = u with { B = Tensor.FromPointer(b, u.B.DType, [n, rank]) };
            }
            backend.LowRankMerge(block, updates, fanInFanOut: false);
            bad += NonFiniteScan.Count(block);
            if (bad > 0 && !allowNonFinite)
                break; // the count so far is enough to refuse; finish counting below
            destination.Write(new ReadOnlySpan<byte>((void*)block.Pointer, checked((int)block.ByteLength)));
        }
        if (bad > 0)
        {
            if (!allowNonFinite)
                throw new NonFiniteMergeException(edit.TensorName, CountMerged(shard, info, edit));
            _nonFinite[edit.TensorName] = bad;
        }
    }

    /// <summary>The non-finite count of the whole merged tensor (only on the refusal path, so its message gives the full count).</summary>
    private long CountMerged(MappedShard shard, SafetensorsTensorInfo info, TensorEdit edit)
    {
        long[] shape = [.. info.Shape];
        var work = _output.View(info.DType, shape);
        using (var range = shard.Map(info.DataBegin, info.ByteLength))
        using (var source = Tensor.FromPointer(range.Pointer, info.DType, shape))
            backend.Convert(source, work);
        backend.LowRankMerge(work, [.. edit.LowRank], fanInFanOut: false);
        return NonFiniteScan.Count(work);
    }

    /// <inheritdoc />
    public void Dispose()
    {
        _work.Dispose();
        _output.Dispose();
    }

    private static unsafe void WriteTensor(Tensor tensor, Stream destination, CancellationToken cancellationToken)
    {
        const int maxSpan = 1 << 30;
        for (long done = 0; done < tensor.ByteLength;)
        {
            cancellationToken.ThrowIfCancellationRequested();
            int n = (int)Math.Min(tensor.ByteLength - done, maxSpan);
            destination.Write(new ReadOnlySpan<byte>((byte*)tensor.Pointer + done, n));
            done += n;
        }
    }
}
