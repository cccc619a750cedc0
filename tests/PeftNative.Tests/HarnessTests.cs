namespace PeftNative.Tests;

/// <summary>The test harness catches what it is there to catch (so a pass means something).</summary>
[TestFixture]
public class HarnessTests
{
    [Test]
    public void Guards_DetectWritesJustOutsideTheView([Values(DType.F32, DType.F16, DType.BF16)] DType dtype)
    {
        foreach (int side in new[] { -1, 1 })
        {
            using var g = new GuardedTensor(RandomTensors.For($"harness/{dtype}/{side}"), dtype, [13]);
            long index = side < 0 ? -1 : 13;
            unsafe
            {
                byte* p = (byte*)g.View.Pointer + index * dtype.SizeOf();
                p[0] ^= 0x01;
            }
            Assert.Throws<AssertionException>(() => g.AssertGuardsIntact("harness"), $"{dtype}: a write at element {index} must be caught");
        }
    }

    [Test]
    public void Poison_MakesAnUnwrittenElementFail([Values(DType.F32, DType.F16, DType.BF16)] DType dtype)
    {
        using var g = new GuardedTensor(RandomTensors.For($"harness-poison/{dtype}"), dtype, [9]);
        var expected = RandomTensors.ToDoubles(g.View);
        g.Poison();
        for (long i = 0; i < 9; i++)
            if (i != 4)
                RandomTensors.Set(g.View, i, expected[i]);
        Assert.That(double.IsNaN(RandomTensors.Get(g.View, 4)), Is.True);
        Assert.Throws<AssertionException>(() => Tolerances.AssertClose("harness", g.View, expected, null, 1));
    }

    [Test]
    public void Tolerances_OneUlpPassesTwoFail()
    {
        using var t = Tensor.Allocate(DType.F16, 1);
        double e = 1.0;
        RandomTensors.Set(t, 0, 1.0 + Math.ScaleB(1, -10)); // one f16 ulp above 1
        Assert.DoesNotThrow(() => Tolerances.AssertClose("harness", t, [e], null, 1));
        RandomTensors.Set(t, 0, 1.0 + Math.ScaleB(1, -9));  // two ulps
        Assert.Throws<AssertionException>(() => Tolerances.AssertClose("harness", t, [e], null, 1));
        using var f = Tensor.Allocate(DType.F32, 1);
        RandomTensors.Set(f, 0, 1.0 + 1e-4);
        Assert.Throws<AssertionException>(() => Tolerances.AssertClose("harness", f, [1.0], null, 1));
        RandomTensors.Set(f, 0, 1.0 + 1e-6);
        Assert.DoesNotThrow(() => Tolerances.AssertClose("harness", f, [1.0], null, 1));
    }

    [Test]
    public void Seeds_AreStable_Fnv1a()
    {
        Assert.That(RandomTensors.StableHash("a"), Is.EqualTo(0x640C292C)); // FNV-1a("a") = 0xE40C292C, top bit cleared
        Assert.That(RandomTensors.StableHash("affine/F32/F16/7x129/k3"), Is.Not.EqualTo(RandomTensors.StableHash("affine/F32/F16/7x129/k4")));
    }
}
