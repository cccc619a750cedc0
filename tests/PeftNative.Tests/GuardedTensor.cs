namespace PeftNative.Tests;

/// <summary>
/// An output tensor with guard elements on both sides: a bigger owned allocation whose middle is
/// viewed through <see cref="Tensor.FromPointer"/>. The guards hold random bytes; after a kernel
/// ran they must be bit-identical (no over-write). The front guard length varies (0, 1, 3 or 7
/// elements beyond a cache line) so vector code also sees unaligned starts. <see cref="Poison"/>
/// fills the view with a NaN bit pattern so an element the kernel forgot to write shows up.
/// </summary>
public sealed class GuardedTensor : IDisposable
{
    private static readonly int[] FrontOffsets = [0, 1, 3, 7];
    private readonly Tensor _backing;
    private readonly int _front;
    private readonly int _back;
    private readonly byte[] _frontBytes;
    private readonly byte[] _backBytes;
    private readonly int _elementSize;

    /// <summary>Allocates the guarded tensor; the view is filled with random values.</summary>
    /// <param name="rng">Source of the guard bytes, the values and (unless given) the front offset.</param>
    /// <param name="dtype">Element type.</param>
    /// <param name="shape">Shape of the view.</param>
    /// <param name="fillRandom">Fill the view with random values.</param>
    /// <param name="frontOffset">Elements beyond one cache line before the view: 0 gives a 64-byte aligned view; null picks 0, 1, 3 or 7.</param>
    public GuardedTensor(Random rng, DType dtype, long[] shape, bool fillRandom = true, int? frontOffset = null)
    {
        ArgumentNullException.ThrowIfNull(rng);
        ArgumentNullException.ThrowIfNull(shape);
        _elementSize = dtype.SizeOf();
        int offset = FrontOffsets[rng.Next(FrontOffsets.Length)];
        _front = 64 / _elementSize + (frontOffset ?? offset);
        _back = 37;
        long n = shape.Aggregate(1L, (a, b) => a * b);
        _backing = Tensor.Allocate(dtype, _front + n + _back);
        rng.NextBytes(_backing.AsBytes()[..(_front * _elementSize)]);
        rng.NextBytes(_backing.AsBytes()[(int)((_front + n) * _elementSize)..]);
        View = Tensor.FromPointer(_backing.Pointer + _front * _elementSize, dtype, shape);
        if (fillRandom)
            RandomTensors.Fill(rng, View);
        _frontBytes = _backing.AsBytes()[..(_front * _elementSize)].ToArray();
        _backBytes = _backing.AsBytes()[(int)((_front + n) * _elementSize)..].ToArray();
    }

    /// <summary>The guarded middle.</summary>
    public Tensor View { get; }

    /// <summary>Fills the view with a NaN bit pattern (sign set, odd payload).</summary>
    public void Poison()
    {
        uint bits = View.DType switch
        {
            DType.F32 => 0xFFC0_DEADu,
            DType.F16 => 0xFEADu,
            DType.BF16 => 0xFFDEu,
            _ => 0xFFFF_FFFFu,
        };
        if (View.DType.SizeOf() == 4)
            View.AsSpan<uint>().Fill(bits);
        else
            View.AsSpan<ushort>().Fill((ushort)bits);
    }

    /// <summary>Asserts both guards are bit-identical to what they were.</summary>
    public void AssertGuardsIntact(string context)
    {
        var bytes = _backing.AsBytes();
        var front = bytes[..(_front * _elementSize)];
        var back = bytes[(bytes.Length - _back * _elementSize)..];
        int f = FirstDifference(front, _frontBytes);
        if (f >= 0)
            Assert.Fail($"{context}: wrote before the output (front guard byte {f}, element {f / _elementSize - _front} relative to the output start)");
        int b = FirstDifference(back, _backBytes);
        if (b >= 0)
            Assert.Fail($"{context}: wrote past the output (back guard byte {b}, element {View.ElementCount + b / _elementSize})");
    }

    private static int FirstDifference(ReadOnlySpan<byte> a, ReadOnlySpan<byte> b)
    {
        for (int i = 0; i < a.Length; i++)
            if (a[i] != b[i])
                return i;
        return -1;
    }

    /// <inheritdoc />
    public void Dispose()
    {
        View.Dispose();
        _backing.Dispose();
    }
}
