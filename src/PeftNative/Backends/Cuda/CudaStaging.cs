namespace PeftNative.Backends.Cuda;

/// <summary>
/// The device copies of the host tensors of one kernel call: each distinct host buffer gets one
/// device buffer (an output that is the very same memory as an input shares the input's copy, so
/// in-place calls stay in place on the device). Disposing frees them all.
/// </summary>
internal sealed class CudaStaging : IDisposable
{
    private readonly List<(Tensor Host, CudaBuffer Device)> _buffers = [];
    private readonly Interop.CudaStreamHandle _stream;

    public CudaStaging(Interop.CudaStreamHandle stream) => _stream = stream;

    /// <summary>The device address holding <paramref name="host"/>'s bytes (uploaded once).</summary>
    public nint Upload(Tensor host) => Find(host) ?? Add(host, CudaBuffer.FromHost(host, _stream));

    /// <summary>A device address for <paramref name="host"/>: its uploaded copy if it has one, else fresh memory (contents undefined).</summary>
    public nint ForOutput(Tensor host) => Find(host) ?? Add(host, CudaBuffer.Allocate(host.ByteLength));

    /// <summary>Copies the device copy of <paramref name="host"/> back into it.</summary>
    public void Download(Tensor host)
    {
        foreach (var (h, d) in _buffers)
            if (h.IsSameMemory(host))
            {
                d.Download(host, _stream);
                return;
            }
        throw new InvalidOperationException($"cuda: {host} has no device copy");
    }

    public void Dispose()
    {
        foreach (var (_, d) in _buffers)
            d.Dispose();
        _buffers.Clear();
    }

    private nint? Find(Tensor host)
    {
        foreach (var (h, d) in _buffers)
            if (h.IsSameMemory(host))
                return d.Pointer;
        return null;
    }

    private nint Add(Tensor host, CudaBuffer device)
    {
        _buffers.Add((host, device));
        return device.Pointer;
    }
}
