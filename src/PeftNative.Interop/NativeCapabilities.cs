using System.Runtime.InteropServices;

namespace PeftNative.Interop;

/// <summary>Mirror of <c>pn_capabilities</c>; set <see cref="StructSize"/> before the call.</summary>
[StructLayout(LayoutKind.Sequential)]
public struct NativeCapabilities
{
    /// <summary>sizeof(pn_capabilities).</summary>
    public uint StructSize;
    /// <summary>CPU has AVX2.</summary>
    public int HasAvx2;
    /// <summary>CPU has FMA3.</summary>
    public int HasFma;
    /// <summary>CPU has F16C.</summary>
    public int HasF16c;
    /// <summary>CPU has AVX-512F.</summary>
    public int HasAvx512F;
    /// <summary>CPU has AVX-512BW.</summary>
    public int HasAvx512Bw;
    /// <summary>CPU has AVX-512VL.</summary>
    public int HasAvx512Vl;
    /// <summary>CPU has AVX512_BF16.</summary>
    public int HasAvx512Bf16;
    /// <summary>CPUs this process may run on.</summary>
    public int LogicalCpus;
    /// <summary>What threads &lt;= 0 means.</summary>
    public int DefaultThreads;
    /// <summary>Best <see cref="NativeIsa"/> the CPU supports.</summary>
    public int BestIsa;
    /// <summary><see cref="NativeIsa"/> the kernels dispatch to now.</summary>
    public int ActiveIsa;
}

/// <summary>Mirror of <c>pn_lowrank_factor</c>: scale * B (out x rank) @ A (rank x in).</summary>
[StructLayout(LayoutKind.Sequential)]
public unsafe struct NativeLowRankFactor
{
    /// <summary>B, out_features x rank, row-major.</summary>
    public void* B;
    /// <summary>A, rank x in_features, row-major.</summary>
    public void* A;
    /// <summary><see cref="NativeDType"/> of A and B.</summary>
    public int DType;
    /// <summary>Rank, &gt;= 1.</summary>
    public int Rank;
    /// <summary>Scale s_k.</summary>
    public float Scale;
    /// <summary>Must be 0.</summary>
    public int Reserved;
}
