namespace PeftNative.Composition;

/// <summary>
/// Owned output tensors whose memory is NOT cleared, for results a kernel overwrites completely
/// (the paper method's Affine sums). <see cref="Tensor.Allocate"/> zeroes every byte first, which
/// on the fast path is one extra write pass over the whole output, done on one thread; here the
/// pages are first touched by the kernel's own threads. The memory is 64-byte aligned, comes from
/// and goes back to <see cref="NativeBlockPool"/> when the tensor is disposed (or, if it never is,
/// when the finaliser of its block runs).
/// </summary>
internal static class UninitializedTensor
{
    /// <summary>A tensor of <paramref name="dtype"/> and <paramref name="shape"/> with undefined contents.</summary>
    public static Tensor Allocate(DType dtype, long[] shape)
    {
        long count = 1;
        foreach (long d in shape)
            count = checked(count * d);
        var block = new NativeBlock(dtype.ByteLengthOf(count));
        try
        {
            return Tensor.FromPointer(block.Pointer, dtype, shape, owner: block);
        }
        catch
        {
            block.Dispose();
            throw;
        }
    }

    /// <summary>An aligned native allocation owned by the tensor viewing it.</summary>
    private sealed class NativeBlock : IDisposable
    {
        private readonly long _bytes;
        private nint _data;

        public NativeBlock(long bytes)
        {
            _bytes = bytes;
            _data = NativeBlockPool.Rent(bytes);
        }

        public nint Pointer => _data;

        public void Dispose()
        {
            Free();
            GC.SuppressFinalize(this);
        }

        ~NativeBlock() => Free();

        private void Free()
        {
            nint p = Interlocked.Exchange(ref _data, 0);
            if (p != 0)
                NativeBlockPool.Return(p, _bytes);
        }
    }
}
