using CsCheck;

namespace PeftNative.Tests;

/// <summary>
/// <see cref="BFloat16"/>: FromSingle rounds to nearest even (checked against the independent
/// double-based <see cref="FloatOracles.ToBFloat16Bits"/> for every upper half with a spread of
/// lower halves, i.e. every rounding situation of every bf16 binade), NaN stays NaN (quiet, sign
/// and top payload kept), ToSingle is exact for all 65536 patterns.
/// </summary>
[TestFixture]
public class BFloat16Tests
{
    private static readonly ushort[] LowHalves = [0x0000, 0x0001, 0x3FFF, 0x4000, 0x7FFE, 0x7FFF, 0x8000, 0x8001, 0xBFFF, 0xC000, 0xFFFE, 0xFFFF];

    [Test]
    public void FromSingle_MatchesIndependentRoundToNearestEven_ForEveryUpperHalf()
    {
        var rng = new Random(1127);
        int checkedCount = 0;
        for (uint hi = 0; hi < 65536; hi++)
        {
            for (int k = 0; k < LowHalves.Length + 2; k++)
            {
                uint lo = k < LowHalves.Length ? LowHalves[k] : (uint)rng.Next(65536);
                uint bits = (hi << 16) | lo;
                float x = BitConverter.UInt32BitsToSingle(bits);
                ushort got = BFloat16.FromSingle(x).Bits;
                if (float.IsNaN(x))
                {
                    Assert.That(ConvertTests.NaNProblem(DType.BF16, got, (bits >> 31) != 0, quietRequired: true), Is.Null, $"0x{bits:X8}: got 0x{got:X4}");
                    Assert.That(got & 0xFFBF, Is.EqualTo((bits >> 16) & 0xFFBF), $"0x{bits:X8}: sign and top payload bits must be kept, got 0x{got:X4}");
                }
                else if (got != FloatOracles.ToBFloat16Bits(x))
                {
                    Assert.Fail($"BFloat16.FromSingle(0x{bits:X8} = {x:R}) = 0x{got:X4}, expected 0x{FloatOracles.ToBFloat16Bits(x):X4}");
                }
                checkedCount++;
            }
        }
        Assert.That(checkedCount, Is.EqualTo(65536 * (LowHalves.Length + 2)));
    }

    [Test]
    public void FromSingle_RandomPatterns_Property() =>
        Gen.UInt.Sample(bits =>
        {
            float x = BitConverter.UInt32BitsToSingle(bits);
            ushort got = BFloat16.FromSingle(x).Bits;
            return float.IsNaN(x)
                ? ConvertTests.NaNProblem(DType.BF16, got, (bits >> 31) != 0, true) is null
                : got == FloatOracles.ToBFloat16Bits(x);
        }, iter: 200_000);

    [Test]
    public void ToSingle_IsExact_ForAll65536Patterns()
    {
        for (int i = 0; i < 65536; i++)
        {
            var b = BFloat16.FromBits((ushort)i);
            float f = b.ToSingle();
            Assert.That(BitConverter.SingleToUInt32Bits(f), Is.EqualTo((uint)i << 16), $"0x{i:X4}");
            Assert.That((float)b, Is.EqualTo(f).Or.NaN);
            double want = FloatOracles.BFloat16BitsToDouble((ushort)i);
            if (!double.IsNaN(want))
                Assert.That((double)f, Is.EqualTo(want), $"0x{i:X4}");
            else
                Assert.That(float.IsNaN(f), Is.True);
            if (!float.IsNaN(f))
                Assert.That(BFloat16.FromSingle(f).Bits, Is.EqualTo((ushort)i), $"0x{i:X4} round trip");
        }
    }

    [TestCase(0f, (ushort)0x0000)]
    [TestCase(-0f, (ushort)0x8000)]
    [TestCase(1f, (ushort)0x3F80)]
    [TestCase(-2f, (ushort)0xC000)]
    [TestCase(float.PositiveInfinity, (ushort)0x7F80)]
    [TestCase(float.NegativeInfinity, (ushort)0xFF80)]
    [TestCase(float.MaxValue, (ushort)0x7F80)]       // rounds up past the largest finite bf16
    [TestCase(float.Epsilon, (ushort)0x0000)]        // f32 subnormal below half a bf16 subnormal ulp
    [TestCase(3.140625f, (ushort)0x4049)]            // exact
    [TestCase(1.00390625f, (ushort)0x3F80)]          // 1 + 2^-8: tie, to even (down)
    [TestCase(1.01171875f, (ushort)0x3F82)]          // 1 + 3·2^-8: tie, to even (up)
    public void FromSingle_HandChecked(float value, ushort bits)
    {
        Assert.That(BFloat16.FromSingle(value).Bits, Is.EqualTo(bits));
        Assert.That(((BFloat16)value).Bits, Is.EqualTo(bits));
    }

    [Test]
    public void NaN_IsQuieted_NeverBecomesInfinity()
    {
        foreach (uint bits in new uint[] { 0x7F80_0001, 0x7F80_FFFF, 0xFF80_0001, 0x7FC0_0000, 0x7F81_0000, 0xFFFF_FFFF })
        {
            ushort got = BFloat16.FromSingle(BitConverter.UInt32BitsToSingle(bits)).Bits;
            Assert.That(ConvertTests.NaNProblem(DType.BF16, got, (bits >> 31) != 0, true), Is.Null, $"0x{bits:X8} -> 0x{got:X4}");
        }
    }

    [Test]
    public void Equality_HashAndText()
    {
        var a = BFloat16.FromSingle(1.5f);
        var b = BFloat16.FromBits(0x3FC0);
        var negZero = BFloat16.FromSingle(-0f);
        var zero = BFloat16.FromSingle(0f);
        using (Assert.EnterMultipleScope())
        {
            Assert.That(a == b, Is.True);
            Assert.That(a != b, Is.False);
            Assert.That(a.Equals(b), Is.True);
            Assert.That(a.Equals((object)b), Is.True);
            Assert.That(a.Equals((object)1.5f), Is.False);
            Assert.That(a.GetHashCode(), Is.EqualTo(b.GetHashCode()));
            Assert.That(zero == negZero, Is.False, "equality is bitwise");
            Assert.That(a.ToString(), Is.EqualTo("1.5"));
            Assert.That(BFloat16.FromSingle(-1234.5f).ToString(), Is.EqualTo("-1232"));
        }
    }
}
