using CsCheck;
using PeftNative.Backends;
using PeftNative.Backends.Reference;

namespace PeftNative.Tests;

/// <summary>
/// dtype conversion, checked bit-exactly against <see cref="FloatOracles"/> on every backend
/// configuration: all 65536 f16 and bf16 patterns to every dtype, f32 to f16/bf16 over every
/// f16- and bf16-representable value, every midpoint between neighbours (ties to even) and
/// its f32 neighbours, random bit patterns and the special values (±0, ±Inf, NaNs with payloads
/// that must stay NaN, subnormals, the f16 overflow boundary 65520). NaN: any NaN with the sign
/// kept, and quiet whenever the conversion narrows or crosses between f16 and bf16 (where a
/// dropped payload could turn a NaN into an infinity); widening to f32 may keep the pattern
/// exactly, as <see cref="BFloat16.ToSingle"/> and the reference do. Lengths 0..150 for the tails; in place f16 ↔ bf16.
/// </summary>
[TestFixture]
public class ConvertTests
{
    private static readonly Lazy<float[]> F32Inputs = new(BuildF32Inputs);

    /// <summary>Special f32 bit patterns.</summary>
    public static readonly uint[] SpecialF32 =
    [
        0x0000_0000, 0x8000_0000, 0x7F80_0000, 0xFF80_0000,                          // ±0, ±Inf
        0x7FC0_0000, 0xFFC0_0000, 0x7F80_0001, 0xFF80_0001, 0x7FBF_FFFF, 0x7FC0_0001, // NaNs, signalling and quiet
        0x7F80_2000, 0x7F80_1000, 0x7F80_0100, 0xFF80_0100, 0x7F80_8000, 0x7FFF_FFFF, // payloads below the f16 / bf16 mantissa
        0x0000_0001, 0x8000_0001, 0x007F_FFFF, 0x0040_0000, 0x0000_8000, 0x0001_8000, 0x0000_8001, 0x8000_8000, // f32 subnormals, bf16 ties
        0x477F_E000, 0x477F_EFFF, 0x477F_F000, 0x477F_F001, 0x4780_0000, 0xC77F_F000, 0xC77F_EFFF, // 65504, <65520, 65520, >65520, 65536, -65520, -65519.99
        0x501502F9, 0x7F7F_FFFF, 0xFF7F_FFFF, 0x7F7F_0000, 0x7F7F_7FFF, 0x7F7F_8000, // 1e10, ±max, bf16 max, below and at its overflow tie
        0x3380_0000, 0x3300_0000, 0x3300_0001, 0x33C0_0000, 0x3880_0000, 0x387F_C000, 0x387F_E000, // f16 2^-24, 2^-25 (tie), above, 3·2^-25, 2^-14, max-subnormal ties
        0x3F80_1000, 0x3F80_3000, 0x3F80_0800, 0x3F81_8000, 0x3F80_8000, 0x3F80_8001, 0xBF80_1000, // ties to even at 1.0 in f16 and bf16
    ];

    private static IEnumerable<long> Lengths()
    {
        for (long n = 0; n <= 150; n++)
            yield return n;
        foreach (long n in new long[] { 1000, 4097, 131_085 })
            yield return n;
    }

    /// <summary>TestCaseSource: kernel configuration × {f16, bf16}.</summary>
    public static IEnumerable<TestCaseData> KernelBySixteenBitDType() =>
        from b in TestBackends.Kernel from d in new[] { DType.F16, DType.BF16 } select TestBackends.Case(b, d);

    [TestCaseSource(nameof(KernelBySixteenBitDType))]
    public void Exhaustive16Bit_ToEveryDType(BackendConfig config, DType from)
    {
        using var backend = config.Create();
        var rng = RandomTensors.For($"convert-exhaustive/{from}");
        using var src = Tensor.Allocate(from, 65536);
        for (int i = 0; i < 65536; i++)
            src.AsSpan<ushort>()[i] = (ushort)i;
        var srcBytes = RandomTensors.Bytes(src);
        foreach (DType to in TestBackends.KernelDTypes)
        {
            using var dst = new GuardedTensor(rng, to, [65536], fillRandom: false);
            dst.Poison();
            backend.Convert(src, dst.View);
            string context = $"{config} convert {from.ShortName()}->{to.ShortName()} (all 65536 patterns)";
            dst.AssertGuardsIntact(context);
            Assert.That(RandomTensors.Bytes(src), Is.EqualTo(srcBytes), $"{context}: source modified");
            var failures = new List<string>();
            for (int i = 0; i < 65536 && failures.Count < 8; i++)
            {
                ushort bits = (ushort)i;
                double value = from == DType.F16 ? FloatOracles.HalfBitsToDouble(bits) : FloatOracles.BFloat16BitsToDouble(bits);
                uint got = RandomTensors.Bits(dst.View, i);
                string? problem = double.IsNaN(value)
                    ? NaNProblem(to, got, (bits & 0x8000) != 0, quietRequired: from != to && to != DType.F32)
                    : ExpectedBits(to, (float)value) is var want && want != got ? $"expected 0x{want:X} ({value:R})" : null;
                if (problem is not null)
                    failures.Add($"  index {i} source 0x{bits:X4}: actual 0x{got:X} ({problem})");
            }
            if (failures.Count > 0)
                Assert.Fail($"{context}: mismatches:\n{string.Join('\n', failures)}");
        }
    }

    [TestCaseSource(typeof(TestBackends), nameof(TestBackends.KernelByDType))]
    public void F32_ToEveryDType_BitExact(BackendConfig config, DType to)
    {
        using var backend = config.Create();
        var values = F32Inputs.Value;
        var rng = RandomTensors.For($"convert-f32/{to}");
        using var src = Tensor.Allocate(DType.F32, values.Length);
        values.CopyTo(src.AsSpan<float>());
        using var dst = new GuardedTensor(rng, to, [values.Length], fillRandom: false);
        dst.Poison();
        backend.Convert(src, dst.View);
        string context = $"{config} convert f32->{to.ShortName()} ({values.Length} values: all f16/bf16 values, midpoints ±1 ulp, random patterns, specials)";
        dst.AssertGuardsIntact(context);
        var failures = new List<string>();
        for (int i = 0; i < values.Length && failures.Count < 8; i++)
        {
            float x = values[i];
            uint got = RandomTensors.Bits(dst.View, i);
            uint xb = BitConverter.SingleToUInt32Bits(x);
            string? problem = float.IsNaN(x)
                ? NaNProblem(to, got, (xb & 0x8000_0000u) != 0, quietRequired: to != DType.F32)
                : ExpectedBits(to, x) is var want && want != got ? $"expected 0x{want:X}" : null;
            if (problem is not null)
                failures.Add($"  index {i} source 0x{xb:X8} ({x:R}): actual 0x{got:X} ({problem})");
        }
        if (failures.Count > 0)
            Assert.Fail($"{context}: mismatches:\n{string.Join('\n', failures)}");
    }

    [TestCaseSource(typeof(TestBackends), nameof(TestBackends.KernelByDTypePair))]
    public void EveryLength_Tails(BackendConfig config, DType from, DType to)
    {
        using var backend = config.Create();
        foreach (long n in Lengths())
            RunCase(backend, config, from, to, n, null);
    }

    /// <summary>Destinations past the streaming (non-temporal store) thresholds, aligned and not, long enough for 3 threads.</summary>
    [TestCaseSource(typeof(TestBackends), nameof(TestBackends.KernelCases))]
    public void LargeOutputs_StreamingStoresAndEveryThread(BackendConfig config)
    {
        using var backend = config.Create();
        RunCase(backend, config, DType.F32, DType.F16, 4_200_011, 0);
        RunCase(backend, config, DType.F32, DType.BF16, 4_200_011, 3);
        RunCase(backend, config, DType.F16, DType.F32, 2_200_013, 1);
        RunCase(backend, config, DType.BF16, DType.F32, 2_200_013, 0);
    }

    private static void RunCase(IKernelBackend backend, BackendConfig config, DType from, DType to, long n, int? guardOffset)
    {
        string name = $"convert-tail/{from}/{to}/{n}";
        var (source, expected) = ReferenceCache.GetData(name, () =>
        {
            var r = RandomTensors.For(name);
            using var s = Tensor.Allocate(from, n);
            // random magnitudes over many binades, including values that round in every way
            for (long i = 0; i < n; i++)
                RandomTensors.Set(s, i, RandomTensors.NextSigned(r, 0, 1) * Math.ScaleB(1.0, r.Next(-20, 15)));
            var want = new uint[n];
            for (long i = 0; i < n; i++)
                want[i] = ExpectedBits(to, (float)RandomTensors.Get(s, i));
            return Tuple.Create(RandomTensors.Bytes(s), want);
        }).ToValueTuple();
        var rng = RandomTensors.For(name + "/guards");
        using var src = Tensor.Allocate(from, n);
        source.CopyTo(src.AsBytes());
        using var dst = new GuardedTensor(rng, to, [n], fillRandom: false, frontOffset: guardOffset);
        dst.Poison();
        backend.Convert(src, dst.View);
        string context = $"{config} convert {from.ShortName()}->{to.ShortName()} n={n}";
        dst.AssertGuardsIntact(context);
        var actual = BitsOf(dst.View);
        for (long i = 0; i < n; i++)
        {
            uint got = actual[i];
            if (expected[i] != got)
                Assert.Fail($"{context}: index {i} source {RandomTensors.Get(src, i):R}: expected 0x{expected[i]:X} actual 0x{got:X}");
        }
    }

    [TestCaseSource(typeof(TestBackends), nameof(TestBackends.KernelCases))]
    public void InPlace_F16AndBF16_SameMemory(BackendConfig config)
    {
        using var backend = config.Create();
        foreach (long n in new long[] { 1, 15, 16, 17, 67, 130, 4099, 70_001 })
        {
            foreach (var (from, to) in new[] { (DType.F16, DType.BF16), (DType.BF16, DType.F16), (DType.F32, DType.F32), (DType.F16, DType.F16) })
            {
                var rng = RandomTensors.For($"convert-inplace/{from}/{to}/{n}");
                using var buffer = new GuardedTensor(rng, from, [n], fillRandom: false);
                for (long i = 0; i < n; i++)
                    RandomTensors.Set(buffer.View, i, RandomTensors.NextSigned(rng, 0, 1) * Math.ScaleB(1.0, rng.Next(-12, 12)));
                var expected = new uint[n];
                for (long i = 0; i < n; i++)
                    expected[i] = ExpectedBits(to, (float)RandomTensors.Get(buffer.View, i));
                using var dst = Tensor.FromPointer(buffer.View.Pointer, to, [n]);
                backend.Convert(buffer.View, dst);
                string context = $"{config} convert in place {from.ShortName()}->{to.ShortName()} n={n}";
                buffer.AssertGuardsIntact(context);
                for (long i = 0; i < n; i++)
                    if (RandomTensors.Bits(dst, i) != expected[i])
                        Assert.Fail($"{context}: index {i}: expected 0x{expected[i]:X} actual 0x{RandomTensors.Bits(dst, i):X}");
            }
        }
    }

    [TestCaseSource(typeof(TestBackends), nameof(TestBackends.AllCases))]
    public void InvalidArguments_ThrowAndLeaveEveryByte(BackendConfig config)
    {
        using var backend = config.Create();
        var rng = RandomTensors.For("convert-invalid");
        using var backing = RandomTensors.Create(rng, DType.F32, [64]);
        using var src = Tensor.FromPointer(backing.Pointer, DType.F16, [32]);
        using var shifted = Tensor.FromPointer(backing.Pointer + 2, DType.BF16, [32]);
        using var wider = Tensor.FromPointer(backing.Pointer, DType.F32, [32]);     // same start, f32 needs twice the bytes
        using var f32Src = Tensor.FromPointer(backing.Pointer, DType.F32, [16]);
        using var f16Same = Tensor.FromPointer(backing.Pointer, DType.F16, [16]);   // same start, half the bytes
        using var other = RandomTensors.Create(rng, DType.F32, [31]);
        using var i32 = Tensor.Allocate(DType.I32, 32);
        using var u16 = Tensor.Allocate(DType.U16, 32);
        rng.NextBytes(i32.AsBytes());
        var all = new[] { backing, other, i32, u16 };

        void Check(string what, Action call, string? messagePart = null) =>
            ValidationAssert.ThrowsAndLeavesBytes<ArgumentException>($"{config} convert: {what}", call, messagePart, all);

        Check("partially overlapping destination", () => backend.Convert(src, shifted), "overlap");
        Check("f16 -> f32 over the same start", () => backend.Convert(src, wider), "overlap");
        Check("f32 -> f16 in place (element sizes differ)", () => backend.Convert(f32Src, f16Same), "overlap");
        Check("count mismatch", () => backend.Convert(src, other), "elements");
        Check("I32 source", () => backend.Convert(i32, other), "I32");
        Check("U16 destination", () => backend.Convert(src, u16), "U16");
        Assert.Throws<ArgumentNullException>(() => backend.Convert(null!, other));
        Assert.Throws<ArgumentNullException>(() => backend.Convert(other, null!));
    }

    [TestCaseSource(typeof(TestBackends), nameof(TestBackends.BestCases))]
    public void Property_RoundTripThroughSixteenBit_IsIdentityOnRepresentableValues(BackendConfig config)
    {
        using var backend = config.Create();
        Gen.Select(Gen.UShort.Array[1, 300], Gen.Bool).Sample((patterns, useBf16) =>
        {
            DType mid = useBf16 ? DType.BF16 : DType.F16;
            var values = patterns.Where(p => !FloatOracles.IsNaN16(mid, p))
                .Select(p => (float)(useBf16 ? FloatOracles.BFloat16BitsToDouble(p) : FloatOracles.HalfBitsToDouble(p))).ToArray();
            if (values.Length == 0)
                return;
            using var x = Tensor.Allocate(DType.F32, values.Length);
            values.CopyTo(x.AsSpan<float>());
            using var h = Tensor.Allocate(mid, values.Length);
            using var back = Tensor.Allocate(DType.F32, values.Length);
            backend.Convert(x, h);
            backend.Convert(h, back);
            Assert.That(back.AsSpan<uint>().ToArray(), Is.EqualTo(x.AsSpan<uint>().ToArray()), $"{config} f32->{mid.ShortName()}->f32 must be the identity on {mid.ShortName()} values");
            backend.Convert(back, h); // and once more: idempotent
            backend.Convert(h, back);
            Assert.That(back.AsSpan<uint>().ToArray(), Is.EqualTo(x.AsSpan<uint>().ToArray()), $"{config} second round trip");
        }, iter: 100, threads: 1);
    }

    /// <summary>The oracle itself on tiny lengths: bit-exact against the independent oracles, guards intact.</summary>
    [Test]
    public void Reference_TinyLengths_MatchOracles()
    {
        using var reference = TestBackends.Reference.Create();
        foreach (DType from in TestBackends.KernelDTypes)
            foreach (DType to in TestBackends.KernelDTypes)
                for (long n = 0; n <= 20; n++)
                    RunCase(reference, TestBackends.Reference, from, to, n, null);
    }

    [Test]
    public void Reference_MatchesOracles_OnSpecials()
    {
        using var reference = new ReferenceBackend();
        var values = SpecialF32.Select(BitConverter.UInt32BitsToSingle).ToArray();
        using var src = Tensor.Allocate(DType.F32, values.Length);
        values.CopyTo(src.AsSpan<float>());
        foreach (DType to in new[] { DType.F16, DType.BF16 })
        {
            using var dst = Tensor.Allocate(to, values.Length);
            reference.Convert(src, dst);
            for (int i = 0; i < values.Length; i++)
            {
                uint got = RandomTensors.Bits(dst, i);
                if (float.IsNaN(values[i]))
                    Assert.That(NaNProblem(to, got, float.IsNegative(values[i]), true), Is.Null, $"reference {to} index {i}");
                else
                    Assert.That(got, Is.EqualTo(ExpectedBits(to, values[i])), $"reference f32 0x{SpecialF32[i]:X8} -> {to}");
            }
        }
    }

    [Test]
    public void Oracles_HandChecked()
    {
        Assert.That(FloatOracles.ToHalfBits(65504), Is.EqualTo(0x7BFF));
        Assert.That(FloatOracles.ToHalfBits(65519.99), Is.EqualTo(0x7BFF));
        Assert.That(FloatOracles.ToHalfBits(65520), Is.EqualTo(0x7C00));
        Assert.That(FloatOracles.ToHalfBits(-65520), Is.EqualTo(0xFC00));
        Assert.That(FloatOracles.ToHalfBits(Math.ScaleB(1, -25)), Is.EqualTo(0x0000));
        Assert.That(FloatOracles.ToHalfBits(3 * Math.ScaleB(1, -25)), Is.EqualTo(0x0002));
        Assert.That(FloatOracles.ToHalfBits(1 + Math.ScaleB(1, -11)), Is.EqualTo(0x3C00));
        Assert.That(FloatOracles.ToHalfBits(1 + 3 * Math.ScaleB(1, -11)), Is.EqualTo(0x3C02));
        Assert.That(FloatOracles.ToHalfBits(-0.0), Is.EqualTo(0x8000));
        Assert.That(FloatOracles.ToBFloat16Bits(1 + MathF.ScaleB(1, -8)), Is.EqualTo(0x3F80));
        Assert.That(FloatOracles.ToBFloat16Bits(1 + 3 * MathF.ScaleB(1, -8)), Is.EqualTo(0x3F82));
        Assert.That(FloatOracles.ToBFloat16Bits(float.MaxValue), Is.EqualTo(0x7F80));
        Assert.That(FloatOracles.ToBFloat16Bits(BitConverter.UInt32BitsToSingle(0x7F7F_7FFF)), Is.EqualTo(0x7F7F));
        Assert.That(FloatOracles.ToBFloat16Bits(BitConverter.UInt32BitsToSingle(0x0000_8000)), Is.EqualTo(0x0000));
        Assert.That(FloatOracles.ToBFloat16Bits(BitConverter.UInt32BitsToSingle(0x0001_8000)), Is.EqualTo(0x0002));
        // The oracle agrees with .NET's Half conversion on every f16 value and every midpoint.
        for (int i = 0; i < 0x7C00; i++)
        {
            double v = FloatOracles.HalfBitsToDouble((ushort)i);
            Assert.That(BitConverter.HalfToUInt16Bits((Half)v), Is.EqualTo((ushort)i));
            Assert.That(FloatOracles.ToHalfBits(v), Is.EqualTo((ushort)i));
        }
    }

    private static uint[] BitsOf(Tensor t)
    {
        var r = new uint[t.ElementCount];
        if (t.DType.SizeOf() == 4)
            t.AsSpan<uint>().CopyTo(r);
        else
        {
            var s = t.AsSpan<ushort>();
            for (int i = 0; i < s.Length; i++)
                r[i] = s[i];
        }
        return r;
    }

    /// <summary>Expected bits of a non-NaN float stored in <paramref name="to"/>.</summary>
    internal static uint ExpectedBits(DType to, float x) => to switch
    {
        DType.F32 => BitConverter.SingleToUInt32Bits(x),
        _ => FloatOracles.To16(to, x),
    };

    /// <summary>Null when <paramref name="got"/> is a NaN of <paramref name="to"/> with the right sign (and quiet when required).</summary>
    internal static string? NaNProblem(DType to, uint got, bool negative, bool quietRequired)
    {
        (uint exp, uint man, uint quiet, uint sign) = to switch
        {
            DType.F32 => (0x7F80_0000u, 0x007F_FFFFu, 0x0040_0000u, 0x8000_0000u),
            DType.F16 => (0x7C00u, 0x03FFu, 0x0200u, 0x8000u),
            _ => (0x7F80u, 0x007Fu, 0x0040u, 0x8000u),
        };
        if ((got & exp) != exp || (got & man) == 0)
            return "expected NaN";
        if (((got & sign) != 0) != negative)
            return "NaN sign not kept";
        if (quietRequired && (got & quiet) == 0)
            return "NaN not quieted";
        return null;
    }

    private static float[] BuildF32Inputs()
    {
        var list = new List<float>();
        for (int i = 0; i < 65536; i++)
        {
            list.Add((float)FloatOracles.HalfBitsToDouble((ushort)i));
            list.Add(BitConverter.UInt32BitsToSingle((uint)i << 16));
        }
        // midpoints between neighbouring finite values and their f32 neighbours
        for (int i = 0; i < 0x7BFF; i++)
        {
            float mid = (float)((FloatOracles.HalfBitsToDouble((ushort)i) + FloatOracles.HalfBitsToDouble((ushort)(i + 1))) / 2);
            list.Add(mid); list.Add(MathF.BitIncrement(mid)); list.Add(MathF.BitDecrement(mid)); list.Add(-mid);
        }
        for (uint i = 0; i < 0x7F7F; i++)
        {
            float mid = BitConverter.UInt32BitsToSingle((i << 16) | 0x8000);
            list.Add(mid); list.Add(MathF.BitIncrement(mid)); list.Add(MathF.BitDecrement(mid)); list.Add(-mid);
        }
        var rng = new Random(20261127);
        for (int i = 0; i < 65536; i++)
            list.Add(BitConverter.UInt32BitsToSingle((uint)rng.NextInt64(0, 1L << 32)));
        list.AddRange(SpecialF32.Select(BitConverter.UInt32BitsToSingle));
        return [.. list];
    }
}
