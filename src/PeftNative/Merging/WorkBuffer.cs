using System.Runtime.InteropServices;

namespace PeftNative.Merging;

/// <summary>
/// A reusable aligned native buffer that grows to the largest size asked of it, handed out as
/// tensor views. One per role (working copy, converted output) for the whole merge, so the
/// merge allocates and touches at most the largest tensor's worth of memory per role instead of
/// a fresh allocation per tensor.
/// </summary>
internal sealed unsafe class WorkBuffer : IDisposable
{
    private void* _data;
    private long _capacity;

    /// <summary>Bytes currently allocated.</summary>
    public long Capacity => _capacity;

    /// <summary>A view of the buffer as a tensor of <paramref name="dtype"/> and <paramref name="shape"/> (contents undefined).</summary>
    public Tensor View(DType dtype, long[] shape)
    {
        long count = 1;
        foreach (long d in shape)
            count = checked(count * d);
        long bytes = dtype.ByteLengthOf(count);
        if (bytes > _capacity)
        {
            NativeMemory.AlignedFree(_data);
            _data = null;
            _capacity = 0;
            _data = NativeMemory.AlignedAlloc((nuint)Math.Max(bytes, 1), Tensor.Alignment);
            _capacity = bytes;
        }
        return Tensor.FromPointer((nint)_data, dtype, shape);
    }

    /// <inheritdoc />
    public void Dispose()
    {
        NativeMemory.AlignedFree(_data);
        _data = null;
        _capacity = 0;
    }
}
