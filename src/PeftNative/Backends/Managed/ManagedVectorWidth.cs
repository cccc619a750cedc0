namespace PeftNative.Backends.Managed;

/// <summary>The vector width the <see cref="ManagedBackend"/> kernels use.</summary>
public enum ManagedVectorWidth
{
    /// <summary>The widest width the hardware accelerates (512, 256, 128 bits, else scalar).</summary>
    Auto,

    /// <summary>One float at a time (no System.Runtime.Intrinsics vectors).</summary>
    Scalar,

    /// <summary><see cref="System.Runtime.Intrinsics.Vector128{T}"/> (4 floats).</summary>
    V128,

    /// <summary><see cref="System.Runtime.Intrinsics.Vector256{T}"/> (8 floats).</summary>
    V256,

    /// <summary><see cref="System.Runtime.Intrinsics.Vector512{T}"/> (16 floats).</summary>
    V512,
}
