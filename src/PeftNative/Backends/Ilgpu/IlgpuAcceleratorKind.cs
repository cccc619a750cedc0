namespace PeftNative.Backends.Ilgpu;

/// <summary>Which ILGPU accelerator an <see cref="IlgpuBackend"/> runs on.</summary>
public enum IlgpuAcceleratorKind
{
    /// <summary>The first CUDA GPU when one is usable, else the CPU accelerator.</summary>
    Auto,

    /// <summary>The first CUDA GPU; creating the backend fails when there is none.</summary>
    Cuda,

    /// <summary>ILGPU's CPU accelerator (a simulator of the GPU programming model: for testing, not for speed).</summary>
    Cpu,
}
