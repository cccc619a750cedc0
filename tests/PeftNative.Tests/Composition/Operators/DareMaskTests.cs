using PeftNative.Composition.Operators;

namespace PeftNative.Tests.Composition.Operators;

/// <summary>
/// The counter-based DARE masks: pinned values (computed by an independent Python re-implementation of
/// the documented formula, so a change to the formula fails here), determinism, stream independence,
/// keep fraction, offset consistency.
/// </summary>
public class DareMaskTests
{
    [TestCase(0UL, 0UL, 0UL, 0x568a9b0b1a2c05ecUL, 0.33805245419550545)]
    [TestCase(42UL, 7UL, 0UL, 0xdeb745320506897aUL, 0.8699839827650299)]
    [TestCase(42UL, 7UL, 1UL, 0xab8922ad642bda36UL, 0.6700612710302914)]
    [TestCase(42UL, 7UL, 123456789UL, 0x84534c56c2cc80ccUL, 0.5168960296457943)]
    [TestCase(ulong.MaxValue, ulong.MaxValue, 1UL << 40, 0xc1d89dc85c127e18UL, 0.7572115530165976)]
    public void Hash_IsPinned(ulong seed, ulong stream, ulong index, ulong hash, double uniform)
    {
        Assert.That(DareMask.Hash(seed, stream, index), Is.EqualTo(hash));
        Assert.That(DareMask.Uniform(seed, stream, index), Is.EqualTo(uniform));
    }

    [TestCase("base_model.model.transformer.h.0.attn.c_attn", "lora_A", 0, 0x45e07074b16cde5dUL)]
    [TestCase("base_model.model.transformer.h.0.attn.c_attn", "lora_B", 1, 0xf27af586c3b14b3aUL)]
    [TestCase("", "delta", 0, 0x882a06f17057ecb5UL)]
    [TestCase("ünï", "lora_A", 12, 0x00bbbf2fa820df71UL)]
    public void Stream_IsPinned(string modulePath, string factor, int inputIndex, ulong expected) =>
        Assert.That(DareMask.Stream(modulePath, factor, inputIndex), Is.EqualTo(expected));

    [Test]
    public void Stream_SeparatesItsParts()
    {
        const string m = "model.layers.0.self_attn.q_proj";
        var ids = new[]
        {
            DareMask.Stream(m, "lora_A", 0), DareMask.Stream(m, "lora_B", 0), DareMask.Stream(m, "lora_A", 1),
            DareMask.Stream(m + "x", "lora_A", 0), DareMask.Stream("model.layers.0.self_attn.q_pro", "jlora_A", 0),
        };
        Assert.That(ids, Is.Unique);
        Assert.That(() => DareMask.Stream(null!, "lora_A", 0), Throws.ArgumentNullException);
        Assert.That(() => DareMask.Stream(m, null!, 0), Throws.ArgumentNullException);
        Assert.That(() => DareMask.Stream(m, "lora_A", -1), Throws.TypeOf<ArgumentOutOfRangeException>());
    }

    [Test]
    public void Fill_IsUniformBelowDensity()
    {
        var keep = new bool[1000];
        DareMask.Fill(5, 9, 0.3, keep);
        for (int j = 0; j < keep.Length; j++)
            Assert.That(keep[j], Is.EqualTo(DareMask.Uniform(5, 9, (ulong)j) < 0.3), $"element {j}");
    }

    [Test]
    public void SameSeedAndStream_SameMask_OtherStreamOrSeed_Different()
    {
        const int n = 10_000;
        bool[] Fill(ulong seed, ulong stream)
        {
            var k = new bool[n];
            DareMask.Fill(seed, stream, 0.5, k);
            return k;
        }
        var a = Fill(1, 100);
        Assert.That(Fill(1, 100), Is.EqualTo(a));
        foreach (var (name, other) in new[] { ("stream", Fill(1, 101)), ("seed", Fill(2, 100)) })
        {
            int differ = a.Zip(other).Count(p => p.First != p.Second);
            // Independent masks of density 0.5 differ in half the places (sd 50 at n = 10000).
            Assert.That(differ, Is.InRange(4700, 5300), $"other {name}");
        }
    }

    [TestCase(0.1)]
    [TestCase(0.5)]
    [TestCase(0.9)]
    public void KeepFraction_IsTheDensity(double density)
    {
        const int n = 1_000_000;
        var a = new bool[n];
        var b = new bool[n];
        DareMask.Fill(2024, DareMask.Stream("m", "lora_A", 0), density, a);
        DareMask.Fill(2024, DareMask.Stream("m", "lora_A", 1), density, b);
        int keptA = a.Count(x => x), both = a.Zip(b).Count(p => p.First && p.Second);
        Assert.That(keptA / (double)n, Is.EqualTo(density).Within(0.002), "keep fraction");
        Assert.That(both / (double)n, Is.EqualTo(density * density).Within(0.002), "two streams keep together at density^2");
    }

    [Test]
    public void Fill_WithOffset_EqualsTheSliceOfALargerFill()
    {
        var whole = new bool[10_000];
        DareMask.Fill(77, 3, 0.4, whole);
        foreach (var (offset, length) in new[] { (0, 1), (1234, 777), (9999, 1), (5000, 5000) })
        {
            var part = new bool[length];
            DareMask.Fill(77, 3, 0.4, part, offset);
            Assert.That(part, Is.EqualTo(whole.AsSpan(offset, length).ToArray()), $"offset {offset}");
        }
        var far = new bool[5];
        DareMask.Fill(77, 3, 0.4, far, 1L << 40);
        for (int j = 0; j < far.Length; j++)
            Assert.That(far[j], Is.EqualTo(DareMask.Uniform(77, 3, (1UL << 40) + (ulong)j) < 0.4), $"offset 2^40 + {j}");
    }

    [Test]
    public void DensityEdges()
    {
        var keep = new bool[4096];
        DareMask.Fill(1, 2, 0.0, keep);
        Assert.That(keep, Is.All.False, "density 0");
        DareMask.Fill(1, 2, 1.0, keep);
        Assert.That(keep, Is.All.True, "density 1");
        Assert.That(() => DareMask.Fill(1, 2, double.NaN, new bool[3]), Throws.TypeOf<ArgumentOutOfRangeException>());
        Assert.That(() => DareMask.Fill(1, 2, -0.5, new bool[3]), Throws.TypeOf<ArgumentOutOfRangeException>());
        Assert.That(() => DareMask.Fill(1, 2, 0.5, new bool[3], -1), Throws.TypeOf<ArgumentOutOfRangeException>());
    }
}
