using PeftNative.Backends;

namespace PeftNative.Tests;

/// <summary>
/// Seeded random tensors and element access for tests. Seeds come from a stable hash of a
/// text that names the case (never from string.GetHashCode, which changes per process), so a
/// failure reproduces. Values are never zero and never all equal: magnitudes are drawn from
/// [lo, hi] with a random sign.
/// </summary>
public static class RandomTensors
{
    /// <summary>A deterministic generator for a case described by <paramref name="caseText"/>.</summary>
    public static Random For(string caseText) => new(StableHash(caseText));

    /// <summary>FNV-1a over the UTF-16 code units, folded to a non-negative int.</summary>
    public static int StableHash(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        uint h = 2166136261;
        foreach (char c in text)
        {
            h ^= c;
            h *= 16777619;
        }
        return (int)(h & 0x7FFF_FFFF);
    }

    /// <summary>A non-zero value with magnitude in [lo, hi] and a random sign.</summary>
    public static double NextSigned(Random rng, double lo = 0.05, double hi = 1.0)
    {
        ArgumentNullException.ThrowIfNull(rng);
        double m = lo + (hi - lo) * rng.NextDouble();
        return rng.Next(2) == 0 ? m : -m;
    }

    /// <summary>Allocates a tensor and fills it with random non-zero values (rounded to its dtype).</summary>
    public static Tensor Create(Random rng, DType dtype, long[] shape, double lo = 0.05, double hi = 1.0)
    {
        var t = Tensor.Allocate(dtype, shape);
        Fill(rng, t, lo, hi);
        return t;
    }

    /// <summary>Fills a tensor with random non-zero values (rounded once to its dtype).</summary>
    public static void Fill(Random rng, Tensor t, double lo = 0.05, double hi = 1.0)
    {
        ArgumentNullException.ThrowIfNull(t);
        for (long i = 0; i < t.ElementCount; i++)
            Set(t, i, NextSigned(rng, lo, hi));
    }

    /// <summary>Element i as double (exact widening).</summary>
    public static unsafe double Get(Tensor t, long i)
    {
        ArgumentNullException.ThrowIfNull(t);
        nint p = t.Pointer;
        return t.DType switch
        {
            DType.F32 => ((float*)p)[i],
            DType.F16 => (double)((Half*)p)[i],
            DType.BF16 => BitConverter.UInt32BitsToSingle((uint)((ushort*)p)[i] << 16),
            _ => ScalarMath.Load(p, t.DType, i),
        };
    }

    /// <summary>Stores (float)value rounded to the tensor's dtype.</summary>
    public static unsafe void Set(Tensor t, long i, double value)
    {
        ArgumentNullException.ThrowIfNull(t);
        nint p = t.Pointer;
        switch (t.DType)
        {
            case DType.F32: ((float*)p)[i] = (float)value; break;
            case DType.F16: ((Half*)p)[i] = (Half)(float)value; break;
            case DType.BF16: ((BFloat16*)p)[i] = BFloat16.FromSingle((float)value); break;
            default: ScalarMath.Store(p, t.DType, i, (float)value); break;
        }
    }

    /// <summary>Every element as double.</summary>
    public static unsafe double[] ToDoubles(Tensor t)
    {
        ArgumentNullException.ThrowIfNull(t);
        var r = new double[t.ElementCount];
        nint p = t.Pointer;
        switch (t.DType)
        {
            case DType.F32:
                for (long i = 0; i < r.Length; i++) r[i] = ((float*)p)[i];
                break;
            case DType.F16:
                for (long i = 0; i < r.Length; i++) r[i] = (double)((Half*)p)[i];
                break;
            case DType.BF16:
                for (long i = 0; i < r.Length; i++) r[i] = BitConverter.UInt32BitsToSingle((uint)((ushort*)p)[i] << 16);
                break;
            default:
                for (long i = 0; i < r.Length; i++) r[i] = Get(t, i);
                break;
        }
        return r;
    }

    /// <summary>A fresh owned copy (same dtype, shape and bytes).</summary>
    public static Tensor Clone(Tensor t)
    {
        ArgumentNullException.ThrowIfNull(t);
        var c = Tensor.Allocate(t.DType, t.Shape.ToArray());
        t.AsBytes().CopyTo(c.AsBytes());
        return c;
    }

    /// <summary>A copy of the raw bytes.</summary>
    public static byte[] Bytes(Tensor t)
    {
        ArgumentNullException.ThrowIfNull(t);
        return t.AsBytes().ToArray();
    }

    /// <summary>Raw bits of element i (zero-extended).</summary>
    public static unsafe uint Bits(Tensor t, long i)
    {
        ArgumentNullException.ThrowIfNull(t);
        ArgumentOutOfRangeException.ThrowIfNegative(i);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(i, t.ElementCount);
        return t.DType.SizeOf() == 4 ? ((uint*)t.Pointer)[i] : ((ushort*)t.Pointer)[i];
    }

    /// <summary>Sets the raw bits of element i.</summary>
    public static void SetBits(Tensor t, long i, uint bits)
    {
        ArgumentNullException.ThrowIfNull(t);
        if (t.DType.SizeOf() == 4)
            t.AsSpan<uint>()[(int)i] = bits;
        else
            t.AsSpan<ushort>()[(int)i] = (ushort)bits;
    }

    /// <summary>A NaN of the dtype (quiet, with a payload), as raw bits.</summary>
    public static uint NaNBits(DType dtype) => dtype switch
    {
        DType.F32 => 0x7FC0_1234u,
        DType.F16 => 0x7E12u,
        DType.BF16 => 0x7FC3u,
        _ => throw new ArgumentOutOfRangeException(nameof(dtype)),
    };

    /// <summary>+Inf of the dtype as raw bits.</summary>
    public static uint InfBits(DType dtype) => dtype switch
    {
        DType.F32 => 0x7F80_0000u,
        DType.F16 => 0x7C00u,
        DType.BF16 => 0x7F80u,
        _ => throw new ArgumentOutOfRangeException(nameof(dtype)),
    };

    /// <summary>"67x45" style text.</summary>
    public static string ShapeText(long[] shape) => shape.Length == 0 ? "scalar" : string.Join('x', shape);
}
