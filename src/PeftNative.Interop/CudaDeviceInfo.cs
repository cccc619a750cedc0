using System.Runtime.InteropServices;
using System.Text;

namespace PeftNative.Interop;

/// <summary>Mirror of <c>pn_cuda_device_info</c>; set <see cref="StructSize"/> before the call.</summary>
[StructLayout(LayoutKind.Sequential)]
public unsafe struct CudaDeviceInfo
{
    /// <summary>sizeof(pn_cuda_device_info).</summary>
    public uint StructSize;
    /// <summary>Device ordinal.</summary>
    public int Ordinal;
    /// <summary>NUL-terminated UTF-8 name; read it with <see cref="Name"/>.</summary>
    public fixed byte NameBytes[256];
    /// <summary>Total device memory in bytes.</summary>
    public long TotalMemory;
    /// <summary>Free device memory in bytes at the time of the query.</summary>
    public long FreeMemory;
    /// <summary>Compute capability, major part.</summary>
    public int ComputeMajor;
    /// <summary>Compute capability, minor part.</summary>
    public int ComputeMinor;
    /// <summary>Streaming multiprocessors.</summary>
    public int Multiprocessors;
    /// <summary>Memory bus width in bits.</summary>
    public int MemoryBusWidth;
    /// <summary>Memory clock in kHz (0 when not reported).</summary>
    public int MemoryClockKhz;
    /// <summary>CUDA runtime version the library was linked with (e.g. 11080).</summary>
    public int RuntimeVersion;
    /// <summary>Highest CUDA version the driver supports (e.g. 12040).</summary>
    public int DriverVersion;
    /// <summary>Reserved (0).</summary>
    public int Reserved;

    /// <summary>The device name.</summary>
    public readonly string Name
    {
        get
        {
            fixed (byte* p = NameBytes)
            {
                var span = new ReadOnlySpan<byte>(p, 256);
                int end = span.IndexOf((byte)0);
                return Encoding.UTF8.GetString(end < 0 ? span : span[..end]);
            }
        }
    }

    /// <summary>"NVIDIA H100 80GB HBM3 (sm_90, 79.1 GiB)".</summary>
    public override readonly string ToString() =>
        FormattableString.Invariant($"{Name} (sm_{ComputeMajor}{ComputeMinor}, {TotalMemory / (1024.0 * 1024 * 1024):F1} GiB)");
}
