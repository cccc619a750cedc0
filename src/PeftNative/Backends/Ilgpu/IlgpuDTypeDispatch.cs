namespace PeftNative.Backends.Ilgpu;

/// <summary>A launch that is generic over one element type (see <see cref="IlgpuDTypeDispatch"/>).</summary>
internal interface IIlgpuLaunch
{
    /// <summary>Runs with the storage type and element access of the dtype.</summary>
    void Launch<T, E>() where T : unmanaged where E : struct, IIlgpuElement<T>;
}

/// <summary>A launch that is generic over two element types (see <see cref="IlgpuDTypeDispatch"/>).</summary>
internal interface IIlgpuPairLaunch
{
    /// <summary>Runs with the storage types and element access of both dtypes.</summary>
    void Launch<TA, EA, TB, EB>()
        where TA : unmanaged where EA : struct, IIlgpuElement<TA>
        where TB : unmanaged where EB : struct, IIlgpuElement<TB>;
}

/// <summary>
/// Turns runtime kernel dtypes into the generic instantiation of a launch, so each kernel file
/// names its launch once and ILGPU compiles one specialised kernel per dtype combination.
/// </summary>
internal static class IlgpuDTypeDispatch
{
    /// <summary>Calls <paramref name="launch"/> instantiated for <paramref name="dtype"/> (a kernel dtype).</summary>
    public static void One<TL>(DType dtype, ref TL launch) where TL : IIlgpuLaunch, allows ref struct
    {
        switch (dtype)
        {
            case DType.F32: launch.Launch<float, IlgpuF32>(); break;
            case DType.F16: launch.Launch<ushort, IlgpuF16>(); break;
            default: launch.Launch<ushort, IlgpuBF16>(); break;
        }
    }

    /// <summary>Calls <paramref name="launch"/> instantiated for <paramref name="first"/> and <paramref name="second"/> (kernel dtypes).</summary>
    public static void Pair<TL>(DType first, DType second, ref TL launch) where TL : IIlgpuPairLaunch, allows ref struct
    {
        switch (first)
        {
            case DType.F32: Second<float, IlgpuF32, TL>(second, ref launch); break;
            case DType.F16: Second<ushort, IlgpuF16, TL>(second, ref launch); break;
            default: Second<ushort, IlgpuBF16, TL>(second, ref launch); break;
        }
    }

    private static void Second<TA, EA, TL>(DType second, ref TL launch)
        where TA : unmanaged where EA : struct, IIlgpuElement<TA>
        where TL : IIlgpuPairLaunch, allows ref struct
    {
        switch (second)
        {
            case DType.F32: launch.Launch<TA, EA, float, IlgpuF32>(); break;
            case DType.F16: launch.Launch<TA, EA, ushort, IlgpuF16>(); break;
            default: launch.Launch<TA, EA, ushort, IlgpuBF16>(); break;
        }
    }
}
