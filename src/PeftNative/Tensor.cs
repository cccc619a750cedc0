using System.Runtime.InteropServices;

namespace PeftNative;

/// <summary>
/// A dense row-major tensor in host memory: either owned (64-byte aligned native memory, freed
/// on <see cref="Dispose"/>) or a view of memory someone else owns (a memory-mapped file, another
/// tensor). Views keep their owner alive only through the reference the caller holds; disposing
/// a view never frees the memory it looks at.
/// </summary>
public sealed unsafe class Tensor : IDisposable
{
    /// <summary>Alignment of owned allocations, in bytes (one cache line, one AVX-512 vector).</summary>
    public const int Alignment = 64;

    private readonly long[] _shape;
    private readonly bool _owns;
    private readonly IDisposable? _owner;
    private readonly long _mappedBytes; // owned memory from a mapping (HostMemory), else 0
    private void* _data;

    private Tensor(void* data, DType dtype, long[] shape, bool owns, IDisposable? owner, long mappedBytes = 0)
    {
        _data = data;
        _mappedBytes = mappedBytes;
        DType = dtype;
        _shape = shape;
        _owns = owns;
        _owner = owner;
        ElementCount = CheckedElementCount(shape);
        ByteLength = dtype.ByteLengthOf(ElementCount);
        if (owns && ByteLength > 0)
            GC.AddMemoryPressure(ByteLength);
        if (!owns)
            GC.SuppressFinalize(this); // a view frees nothing: keep it off the finalisation queue
    }

    /// <summary>Element type.</summary>
    public DType DType { get; }

    /// <summary>Dimensions, outermost first.</summary>
    public ReadOnlySpan<long> Shape => _shape;

    /// <summary>Number of dimensions.</summary>
    public int Rank => _shape.Length;

    /// <summary>Product of the dimensions.</summary>
    public long ElementCount { get; }

    /// <summary>Size of the data in bytes.</summary>
    public long ByteLength { get; }

    /// <summary>Rows of a matrix (a 1-D tensor is one row).</summary>
    public long Rows
    {
        get
        {
            long rows = 1;
            for (int i = 0; i < _shape.Length - 1; i++)
                rows = checked(rows * _shape[i]); // a 3x0 matrix still has 3 rows
            return rows;
        }
    }

    /// <summary>Columns of a matrix (the innermost dimension).</summary>
    public long Columns => _shape.Length == 0 ? 1 : _shape[^1];

    /// <summary>True once disposed.</summary>
    public bool IsDisposed { get; private set; }

    /// <summary>Address of the first element. Throws <see cref="ObjectDisposedException"/> after <see cref="Dispose"/>.</summary>
    public nint Pointer
    {
        get
        {
            ObjectDisposedException.ThrowIf(IsDisposed, this);
            return (nint)_data;
        }
    }

    /// <summary>Allocates an owned tensor, 64-byte aligned. Contents are zero. Large tensors are
    /// mapped on transparent huge pages and come zeroed from the kernel (no clearing pass).</summary>
    /// <exception cref="ArgumentOutOfRangeException">A dimension is negative.</exception>
    /// <exception cref="OverflowException">The byte size overflows.</exception>
    public static Tensor Allocate(DType dtype, params long[] shape)
    {
        ArgumentNullException.ThrowIfNull(shape);
        long bytes = dtype.ByteLengthOf(CheckedElementCount(shape));
        void* p = HostMemory.Allocate(bytes, Alignment, out long mappedBytes);
        return new Tensor(p, dtype, (long[])shape.Clone(), owns: true, owner: null, mappedBytes);
    }

    /// <summary>
    /// A view of memory owned elsewhere (mapped file, pinned buffer). The caller keeps the memory
    /// alive for the view's lifetime; <paramref name="owner"/>, if given, is disposed with the view.
    /// </summary>
    public static Tensor FromPointer(nint data, DType dtype, long[] shape, IDisposable? owner = null)
    {
        ArgumentNullException.ThrowIfNull(shape);
        if (data == 0 && CheckedElementCount(shape) > 0)
            throw new ArgumentNullException(nameof(data), "a non-empty tensor view needs a non-null pointer");
        return new Tensor((void*)data, dtype, (long[])shape.Clone(), owns: false, owner: owner);
    }

    /// <summary>The elements as a span of <typeparamref name="T"/>, whose size must equal the dtype's.</summary>
    /// <exception cref="InvalidOperationException">Size mismatch, or more than int.MaxValue elements.</exception>
    public Span<T> AsSpan<T>() where T : unmanaged
    {
        if (DType.BitsOf() != sizeof(T) * 8)
            throw new InvalidOperationException($"cannot view a {DType} tensor as {typeof(T).Name} (element sizes {DType.BitsOf()} and {sizeof(T) * 8} bits differ)");
        if (ElementCount > int.MaxValue)
            throw new InvalidOperationException($"tensor of {ElementCount} elements is too large for a span; use Pointer");
        return new Span<T>((void*)Pointer, (int)ElementCount);
    }

    /// <summary>The raw bytes (at most int.MaxValue).</summary>
    public Span<byte> AsBytes()
    {
        if (ByteLength > int.MaxValue)
            throw new InvalidOperationException($"tensor of {ByteLength} bytes is too large for a span; use Pointer");
        return new Span<byte>((void*)Pointer, (int)ByteLength);
    }

    /// <summary>Shape as text, e.g. "4096x4096".</summary>
    public string ShapeText => _shape.Length == 0 ? "scalar" : string.Join('x', _shape);

    /// <summary>True when the byte ranges of two tensors intersect.</summary>
    public bool Overlaps(Tensor other)
    {
        ArgumentNullException.ThrowIfNull(other);
        if (ByteLength == 0 || other.ByteLength == 0)
            return false;
        nint a = Pointer, b = other.Pointer;
        return a < b + (nint)other.ByteLength && b < a + (nint)ByteLength;
    }

    /// <summary>True when both tensors start at the same address and have the same byte length.</summary>
    public bool IsSameMemory(Tensor other)
    {
        ArgumentNullException.ThrowIfNull(other);
        return Pointer == other.Pointer && ByteLength == other.ByteLength;
    }

    /// <inheritdoc />
    public override string ToString() => $"Tensor({DType.ShortName()}, {ShapeText})";

    /// <summary>Frees owned memory; a view releases its owner.</summary>
    public void Dispose()
    {
        if (IsDisposed)
            return;
        IsDisposed = true;
        void* p = _data;
        _data = null;
        if (_owns && p != null)
        {
            HostMemory.Free(p, _mappedBytes);
            if (ByteLength > 0)
                GC.RemoveMemoryPressure(ByteLength);
            GC.SuppressFinalize(this);
        }
        else
        {
            _owner?.Dispose();
        }
    }

    /// <summary>Frees owned memory that was never disposed.</summary>
    ~Tensor()
    {
        if (_owns && _data != null)
        {
            HostMemory.Free(_data, _mappedBytes);
            _data = null;
        }
    }

    private static long CheckedElementCount(long[] shape)
    {
        long count = 1;
        foreach (long d in shape)
        {
            if (d < 0)
                throw new ArgumentOutOfRangeException(nameof(shape), $"dimension {d} is negative");
            count = checked(count * d);
        }
        return count;
    }
}
