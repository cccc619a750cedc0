using ILGPU;

namespace PeftNative.Backends.Ilgpu;

/// <summary>
/// How a kernel reads and writes one element of a kernel dtype as f32. Kernels are generic over
/// a struct implementing this, so ILGPU compiles one specialised kernel per dtype combination
/// (the call on <c>default(TElement)</c> is resolved at compile time, no dispatch on the device).
/// </summary>
/// <typeparam name="T">The storage type on the device: float for f32, ushort bits for f16 and bf16.</typeparam>
internal interface IIlgpuElement<T> where T : unmanaged
{
    /// <summary>Reads element <paramref name="index"/> widened to f32 (exact).</summary>
    float Load(ArrayView<T> view, long index);

    /// <summary>Writes <paramref name="value"/> into element <paramref name="index"/>, rounded once to nearest even.</summary>
    void Store(ArrayView<T> view, long index, float value);
}

/// <summary>f32 elements.</summary>
internal readonly struct IlgpuF32 : IIlgpuElement<float>
{
    /// <inheritdoc />
    public float Load(ArrayView<float> view, long index) => view[index];

    /// <inheritdoc />
    public void Store(ArrayView<float> view, long index, float value) => view[index] = value;
}

/// <summary>f16 elements, stored as their bits.</summary>
internal readonly struct IlgpuF16 : IIlgpuElement<ushort>
{
    /// <inheritdoc />
    public float Load(ArrayView<ushort> view, long index) => IlgpuFloatBits.HalfToSingle(view[index]);

    /// <inheritdoc />
    public void Store(ArrayView<ushort> view, long index, float value) => view[index] = IlgpuFloatBits.SingleToHalf(value);
}

/// <summary>bf16 elements, stored as their bits.</summary>
internal readonly struct IlgpuBF16 : IIlgpuElement<ushort>
{
    /// <inheritdoc />
    public float Load(ArrayView<ushort> view, long index) => IlgpuFloatBits.BFloat16ToSingle(view[index]);

    /// <inheritdoc />
    public void Store(ArrayView<ushort> view, long index, float value) => view[index] = IlgpuFloatBits.SingleToBFloat16(value);
}
