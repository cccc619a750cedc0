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

    /// <summary>Applies <paramref name="edit"/> to the tensor and writes the result in <paramref name="outputType"/>.</summary>
    /// <exception cref="NonFiniteMergeException">The result holds NaN or ±Inf and they are not allowed.</exception>
    public void Apply(MappedShard shard, SafetensorsTensorInfo info, TensorEdit edit, DType outputType, Stream destination, CancellationToken cancellationToken)
    {
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
        long bad = NonFiniteCounter.Count(result);
        if (bad > 0)
        {
            if (!allowNonFinite)
                throw new NonFiniteMergeException(edit.TensorName, bad);
            _nonFinite[edit.TensorName] = bad;
        }
        WriteTensor(result, destination, cancellationToken);
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
