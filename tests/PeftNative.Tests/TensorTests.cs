namespace PeftNative.Tests;

/// <summary>Tensor allocation, views, lifetime, spans and overlap; DType facts and parsing.</summary>
[TestFixture]
public class TensorTests
{
    [TestCase(DType.F32, 3L)]
    [TestCase(DType.F32, (5L << 20) / 4 + 7)]   // above HostMemory's mapping threshold, with a tail
    [TestCase(DType.BF16, (9L << 20) / 2 + 1)]
    public unsafe void Allocate_IsZeroAlignedAndWritable_SmallAndMapped(DType dtype, long count)
    {
        using var t = Tensor.Allocate(dtype, count);
        var bytes = new Span<byte>((void*)t.Pointer, (int)t.ByteLength);
        Assert.That(bytes.IndexOfAnyExcept((byte)0), Is.EqualTo(-1), "fresh tensors are zero");
        Assert.That((long)t.Pointer % Tensor.Alignment, Is.Zero);
        if (t.ByteLength >= (4L << 20) && OperatingSystem.IsLinux())
            Assert.That((long)t.Pointer % (2L << 20), Is.Zero, "large tensors start on a huge-page boundary");
        bytes.Fill(0xA5);   // every byte writable, the last one included
        Assert.That(bytes[^1], Is.EqualTo(0xA5));
    }

    [Test]
    public void Allocate_IsZeroed_EvenWhenMemoryIsReused()
    {
        for (int round = 0; round < 20; round++)
        {
            long n = 1 + round * 997;
            using (var dirty = Tensor.Allocate(DType.F32, n))
                dirty.AsBytes().Fill(0xA5);
            using var t = Tensor.Allocate(DType.F32, n);
            Assert.That(t.AsBytes().IndexOfAnyExcept((byte)0), Is.EqualTo(-1), $"{n} elements: Allocate must return zeroed memory");
        }
    }

    [Test]
    public void Allocate_IsAlignedTo64([Values(DType.F32, DType.F16, DType.BF16, DType.U8, DType.F64)] DType dtype)
    {
        Assert.That(Tensor.Alignment, Is.EqualTo(64));
        for (long n = 0; n < 70; n++)
        {
            using var t = Tensor.Allocate(dtype, n);
            Assert.That((long)t.Pointer % 64, Is.Zero, $"{dtype} x {n}");
        }
    }

    [TestCase(new long[0], 1L, 1L, 1L)]
    [TestCase(new long[] { 5 }, 5L, 1L, 5L)]
    [TestCase(new long[] { 3, 4 }, 12L, 3L, 4L)]
    [TestCase(new long[] { 2, 3, 4 }, 24L, 6L, 4L)]
    [TestCase(new long[] { 0, 3 }, 0L, 0L, 3L)]
    [TestCase(new long[] { 3, 0 }, 0L, 3L, 0L)]
    [TestCase(new long[] { 0 }, 0L, 1L, 0L)]
    public void ShapeFacts(long[] shape, long count, long rows, long cols)
    {
        using var t = Tensor.Allocate(DType.BF16, shape);
        using (Assert.EnterMultipleScope())
        {
            Assert.That(t.Shape.ToArray(), Is.EqualTo(shape));
            Assert.That(t.Rank, Is.EqualTo(shape.Length));
            Assert.That(t.ElementCount, Is.EqualTo(count));
            Assert.That(t.ByteLength, Is.EqualTo(count * 2));
            Assert.That(t.Rows, Is.EqualTo(rows), $"Rows of a {RandomTensors.ShapeText(shape)} tensor");
            Assert.That(t.Columns, Is.EqualTo(cols));
            Assert.That(t.ShapeText, Is.EqualTo(shape.Length == 0 ? "scalar" : string.Join('x', shape)));
            Assert.That(t.ToString(), Is.EqualTo($"Tensor(bf16, {t.ShapeText})"));
        }
    }

    [Test]
    public void Allocate_CopiesTheShapeArray()
    {
        long[] shape = [2, 3];
        using var t = Tensor.Allocate(DType.F32, shape);
        shape[0] = 100;
        Assert.That(t.Shape.ToArray(), Is.EqualTo(new long[] { 2, 3 }));
        Assert.That(t.ElementCount, Is.EqualTo(6));
    }

    [Test]
    public void Allocate_RejectsNegativeAndOverflowingShapes()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => Tensor.Allocate(DType.F32, 3, -1));
        Assert.Throws<OverflowException>(() => Tensor.Allocate(DType.F32, long.MaxValue / 2, 3));
        Assert.Throws<OverflowException>(() => Tensor.Allocate(DType.F64, long.MaxValue / 4));
        Assert.Throws<ArgumentNullException>(() => Tensor.Allocate(DType.F32, null!));
    }

    [Test]
    public void Dispose_IsIdempotent_AndPointerThrowsAfter()
    {
        var t = Tensor.Allocate(DType.F16, 10);
        Assert.That(t.IsDisposed, Is.False);
        t.Dispose();
        Assert.That(t.IsDisposed, Is.True);
        Assert.DoesNotThrow(t.Dispose);
        Assert.DoesNotThrow(t.Dispose);
        Assert.Throws<ObjectDisposedException>(() => _ = t.Pointer);
        Assert.Throws<ObjectDisposedException>(() => t.AsSpan<Half>());
        Assert.Throws<ObjectDisposedException>(() => t.AsBytes());
    }

    [Test]
    public void AsSpan_ChecksElementSize()
    {
        using var f32 = Tensor.Allocate(DType.F32, 7);
        using var f16 = Tensor.Allocate(DType.F16, 7);
        using var bf16 = Tensor.Allocate(DType.BF16, 7);
        using var f64 = Tensor.Allocate(DType.F64, 7);
        using (Assert.EnterMultipleScope())
        {
            Assert.That(f32.AsSpan<float>().Length, Is.EqualTo(7));
            Assert.That(f32.AsSpan<int>().Length, Is.EqualTo(7));
            Assert.That(f16.AsSpan<Half>().Length, Is.EqualTo(7));
            Assert.That(bf16.AsSpan<BFloat16>().Length, Is.EqualTo(7));
            Assert.That(f64.AsSpan<double>().Length, Is.EqualTo(7));
            Assert.That(f32.AsBytes().Length, Is.EqualTo(28));
        }
        var e = Assert.Throws<InvalidOperationException>(() => f32.AsSpan<ushort>());
        Assert.That(e!.Message, Does.Contain("F32"));
        Assert.Throws<InvalidOperationException>(() => f16.AsSpan<float>());
        Assert.Throws<InvalidOperationException>(() => f64.AsSpan<float>());
        Assert.Throws<InvalidOperationException>(() => bf16.AsSpan<byte>());
        using var empty = Tensor.Allocate(DType.F32, 0);
        Assert.That(empty.AsSpan<float>().Length, Is.Zero);
    }

    [Test]
    public void FromPointer_ViewsTheMemory_AndDisposingTheViewKeepsIt()
    {
        using var owner = Tensor.Allocate(DType.F32, 16);
        var view = Tensor.FromPointer(owner.Pointer + 8, DType.F32, [2, 3]);
        Assert.That(view.Pointer, Is.EqualTo(owner.Pointer + 8));
        view.AsSpan<float>()[0] = 42f;
        view.AsSpan<float>()[5] = -1f;
        Assert.That(owner.AsSpan<float>()[2], Is.EqualTo(42f));
        Assert.That(owner.AsSpan<float>()[7], Is.EqualTo(-1f));
        view.Dispose();
        Assert.Throws<ObjectDisposedException>(() => _ = view.Pointer);
        Assert.That(owner.AsSpan<float>()[2], Is.EqualTo(42f), "disposing a view must not free the owner's memory");
        using var halves = Tensor.FromPointer(owner.Pointer, DType.F16, [32]);
        Assert.That(halves.ByteLength, Is.EqualTo(owner.ByteLength));
    }

    [Test]
    public void FromPointer_DisposesItsOwnerOnce()
    {
        var owner = new CountingDisposable();
        using var backing = Tensor.Allocate(DType.U8, 4);
        var view = Tensor.FromPointer(backing.Pointer, DType.U8, [4], owner);
        view.Dispose();
        view.Dispose();
        Assert.That(owner.Count, Is.EqualTo(1));
    }

    [Test]
    public void FromPointer_NullPointer()
    {
        Assert.Throws<ArgumentNullException>(() => Tensor.FromPointer(0, DType.F32, [3]));
        using var empty = Tensor.FromPointer(0, DType.F32, [0, 5]);
        Assert.That(empty.ElementCount, Is.Zero);
        Assert.Throws<ArgumentNullException>(() => Tensor.FromPointer(16, DType.F32, null!));
    }

    [Test]
    public void Overlaps_AndIsSameMemory()
    {
        using var owner = Tensor.Allocate(DType.F32, 32);
        nint p = owner.Pointer;
        using var a = Tensor.FromPointer(p, DType.F32, [8]);          // bytes [0, 32)
        using var b = Tensor.FromPointer(p + 32, DType.F32, [8]);     // [32, 64): adjacent
        using var c = Tensor.FromPointer(p + 31, DType.U8, [1]);      // [31, 32): last byte of a
        using var d = Tensor.FromPointer(p, DType.F16, [16]);         // same bytes as a, other dtype
        using var e = Tensor.FromPointer(p, DType.F16, [8]);          // same start, half the bytes
        using var empty = Tensor.FromPointer(p, DType.F32, [0]);
        using (Assert.EnterMultipleScope())
        {
            Assert.That(a.Overlaps(b), Is.False);
            Assert.That(b.Overlaps(a), Is.False);
            Assert.That(a.Overlaps(c), Is.True);
            Assert.That(c.Overlaps(a), Is.True);
            Assert.That(b.Overlaps(c), Is.False);
            Assert.That(a.Overlaps(a), Is.True);
            Assert.That(a.Overlaps(owner), Is.True);
            Assert.That(a.Overlaps(empty), Is.False);
            Assert.That(empty.Overlaps(a), Is.False);
            Assert.That(a.IsSameMemory(d), Is.True);
            Assert.That(a.IsSameMemory(e), Is.False);
            Assert.That(a.Overlaps(e), Is.True);
            Assert.That(a.IsSameMemory(b), Is.False);
        }
        Assert.Throws<ArgumentNullException>(() => a.Overlaps(null!));
    }

    [Test]
    public void DType_SizeOf_AndKernelFloats()
    {
        var sizes = new Dictionary<DType, int>
        {
            [DType.F32] = 4, [DType.F16] = 2, [DType.BF16] = 2, [DType.F64] = 8, [DType.F8_E4M3] = 1, [DType.F8_E5M2] = 1,
            [DType.I64] = 8, [DType.I32] = 4, [DType.I16] = 2, [DType.I8] = 1, [DType.U64] = 8, [DType.U32] = 4,
            [DType.U16] = 2, [DType.U8] = 1, [DType.Bool] = 1, [DType.F8_E8M0] = 1, [DType.F8_E4M3FNUZ] = 1,
            [DType.F8_E5M2FNUZ] = 1, [DType.C64] = 8,
        };
        DType[] subByte = [DType.F4, DType.F6_E2M3, DType.F6_E3M2];
        Assert.That(sizes.Keys.Concat(subByte), Is.EquivalentTo(Enum.GetValues<DType>()), "every dtype is listed once");
        foreach (var (d, size) in sizes)
        {
            Assert.That(d.SizeOf(), Is.EqualTo(size), d.ToString());
            Assert.That(d.BitsOf(), Is.EqualTo(size * 8), d.ToString());
            Assert.That(d.IsSubByte(), Is.False, d.ToString());
        }
        foreach (var d in subByte)
        {
            var e = Assert.Throws<InvalidOperationException>(() => d.SizeOf(), d.ToString());
            Assert.That(e!.Message, Does.Contain(d.ToString()).And.Contain("bits"));
            Assert.That(d.IsSubByte(), Is.True, d.ToString());
        }
        foreach (var d in Enum.GetValues<DType>())
        {
            Assert.That(d.IsKernelFloat(), Is.EqualTo(d is DType.F32 or DType.F16 or DType.BF16), d.ToString());
            Assert.That(d.ShortName(), Is.EqualTo(d.ToString().ToLowerInvariant()));
            Assert.That(DTypeInfo.Parse(d.ShortName()), Is.EqualTo(d));
            Assert.That(DTypeInfo.Parse(d.ToString()), Is.EqualTo(d));
        }
        Assert.Throws<ArgumentOutOfRangeException>(() => ((DType)99).SizeOf());
        Assert.Throws<ArgumentOutOfRangeException>(() => ((DType)99).BitsOf());
    }

    [TestCase(DType.F4, 4)]
    [TestCase(DType.F6_E2M3, 6)]
    [TestCase(DType.F6_E3M2, 6)]
    [TestCase(DType.F8_E8M0, 8)]
    [TestCase(DType.Bool, 8)]
    [TestCase(DType.BF16, 16)]
    [TestCase(DType.C64, 64)]
    [TestCase(DType.U64, 64)]
    public void DType_BitsOf(DType dtype, int bits) => Assert.That(dtype.BitsOf(), Is.EqualTo(bits));

    [TestCase(DType.F32, 0L, 0L)]
    [TestCase(DType.F32, 5L, 20L)]
    [TestCase(DType.C64, 3L, 24L)]
    [TestCase(DType.F8_E5M2FNUZ, 7L, 7L)]
    [TestCase(DType.F4, 0L, 0L)]
    [TestCase(DType.F4, 2L, 1L)]
    [TestCase(DType.F4, 6L, 3L)]
    [TestCase(DType.F6_E2M3, 4L, 3L)]
    [TestCase(DType.F6_E3M2, 8L, 6L)]
    [TestCase(DType.U8, long.MaxValue / 8, long.MaxValue / 8)]
    public void DType_ByteLengthOf(DType dtype, long count, long bytes) =>
        Assert.That(dtype.ByteLengthOf(count), Is.EqualTo(bytes));

    [Test]
    public void DType_ByteLengthOf_RejectsPartialBytesNegativesAndOverflow()
    {
        foreach (var (d, n) in new[] { (DType.F4, 1L), (DType.F4, 3L), (DType.F6_E2M3, 1L), (DType.F6_E2M3, 2L), (DType.F6_E3M2, 5L) })
        {
            var e = Assert.Throws<ArgumentException>(() => d.ByteLengthOf(n), $"{n} x {d}");
            Assert.That(e!.Message, Does.Contain("byte boundary"));
        }
        Assert.Throws<ArgumentOutOfRangeException>(() => DType.F32.ByteLengthOf(-1));
        Assert.Throws<OverflowException>(() => DType.F32.ByteLengthOf(long.MaxValue / 4 + 1));
        Assert.Throws<OverflowException>(() => DType.F4.ByteLengthOf(long.MaxValue / 2));
        Assert.Throws<OverflowException>(() => DType.U8.ByteLengthOf(long.MaxValue / 4), "the bit count overflows even when the byte count would fit");
    }

    [Test]
    public void DType_SafetensorsNames_RoundTrip_CaseSensitively()
    {
        var names = new Dictionary<DType, string>
        {
            [DType.F32] = "F32", [DType.F16] = "F16", [DType.BF16] = "BF16", [DType.F64] = "F64",
            [DType.F8_E4M3] = "F8_E4M3", [DType.F8_E5M2] = "F8_E5M2", [DType.F8_E8M0] = "F8_E8M0",
            [DType.F8_E4M3FNUZ] = "F8_E4M3FNUZ", [DType.F8_E5M2FNUZ] = "F8_E5M2FNUZ",
            [DType.I64] = "I64", [DType.I32] = "I32", [DType.I16] = "I16", [DType.I8] = "I8",
            [DType.U64] = "U64", [DType.U32] = "U32", [DType.U16] = "U16", [DType.U8] = "U8",
            [DType.Bool] = "BOOL", [DType.C64] = "C64", [DType.F4] = "F4", [DType.F6_E2M3] = "F6_E2M3", [DType.F6_E3M2] = "F6_E3M2",
        };
        Assert.That(names.Keys, Is.EquivalentTo(Enum.GetValues<DType>()));
        foreach (var (d, name) in names)
        {
            Assert.That(d.SafetensorsName(), Is.EqualTo(name));
            Assert.That(DTypeInfo.TryParseSafetensorsName(name, out var parsed), Is.True, name);
            Assert.That(parsed, Is.EqualTo(d));
        }
        foreach (string bad in new[] { "f32", "Bool", "bool", "bf16", "F8_e4m3", "", "F32 ", " F32", "F33", "float32", "7" })
            Assert.That(DTypeInfo.TryParseSafetensorsName(bad, out _), Is.False, $"'{bad}'");
        Assert.Throws<ArgumentNullException>(() => DTypeInfo.TryParseSafetensorsName(null!, out _));
    }

    [Test]
    public void DType_SafetensorsRank_OrdersLikeTheReference()
    {
        var ranks = Enum.GetValues<DType>().Select(d => d.SafetensorsRank()).ToArray();
        Assert.That(ranks, Is.Unique);
        Assert.That(DType.Bool.SafetensorsRank(), Is.Zero);
        Assert.That(DType.U64.SafetensorsRank(), Is.EqualTo(ranks.Max()));
        Assert.That(DType.F32.SafetensorsRank(), Is.GreaterThan(DType.BF16.SafetensorsRank()));
    }

    [TestCase("BF16", DType.BF16)]
    [TestCase("bf16", DType.BF16)]
    [TestCase("Bf16", DType.BF16)]
    [TestCase("f8_e4m3", DType.F8_E4M3)]
    [TestCase("BOOL", DType.Bool)]
    public void DType_Parse_Names(string name, DType expected) =>
        Assert.That(DTypeInfo.Parse(name), Is.EqualTo(expected));

    [TestCase("")]
    [TestCase("float32")]
    [TestCase("f31")]
    [TestCase("F8")]
    [TestCase("99")]
    [TestCase("7")]          // a number is not a dtype name (it would otherwise read as I32)
    [TestCase("-1")]
    [TestCase("F32,F16")]    // a combination of names is not a dtype name
    public void DType_Parse_RejectsNonNames(string name)
    {
        var e = Assert.Throws<ArgumentException>(() => DTypeInfo.Parse(name), $"Parse(\"{name}\")");
        Assert.That(e!.Message, Does.Contain($"'{name}'").And.Contain("BF16"));
    }

    private sealed class CountingDisposable : IDisposable
    {
        public int Count { get; private set; }

        public void Dispose() => Count++;
    }
}
