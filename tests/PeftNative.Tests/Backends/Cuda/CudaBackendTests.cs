using PeftNative.Backends;
using PeftNative.Backends.Cuda;
using PeftNative.Interop;

namespace PeftNative.Tests.Backends.Cuda;

/// <summary>
/// What is particular to the CUDA backend (the shared kernel tests run it too, as the "cuda/d0"
/// configuration of <see cref="TestBackends"/>): the device query, device buffers, merges large
/// enough to span many tiles on both products (tensor cores for all-bf16 / all-f16 factors, f32
/// FMAs for mixed ones) with aligned and unaligned shapes, more factors and inputs than one launch
/// takes, and the native library's own argument checks. Without a device every test is reported
/// as ignored with "no CUDA device: ..." and the reason, never as passed.
/// </summary>
[TestFixture]
[Category("Gpu")]
public class CudaBackendTests
{
    private CudaBackend _backend = null!;

    [OneTimeSetUp]
    public void RequireDevice()
    {
        if (!CudaBackend.IsAvailable(out string? reason))
            Assert.Ignore($"no CUDA device: {reason}");
        _backend = new CudaBackend();
    }

    [OneTimeTearDown]
    public void DisposeBackend() => _backend?.Dispose();

    [Test]
    public void DeviceInfo_NamesTheCard()
    {
        CudaDeviceInfo info = _backend.Device;
        Assert.That(info.Name, Is.Not.Empty);
        Assert.That(info.TotalMemory, Is.GreaterThan(0));
        Assert.That(info.FreeMemory, Is.InRange(1, info.TotalMemory));
        Assert.That(info.ComputeMajor, Is.GreaterThanOrEqualTo(8), "the library carries sm_80/sm_90 code and compute_90 PTX");
        Assert.That(info.Multiprocessors, Is.GreaterThan(0));
        Assert.That(_backend.Description, Does.Contain(info.Name));
    }

    [Test]
    public void AutoSelection_PrefersCuda()
    {
        using var backend = KernelBackendFactory.Create("auto", diagnostics: line => Assert.Fail($"unexpected diagnostic: {line}"));
        Assert.That(backend.Name, Is.EqualTo("cuda"));
    }

    [Test]
    public void Buffer_RoundTripsBytesExactly()
    {
        var rng = RandomTensors.For("cuda/buffer");
        using var host = RandomTensors.Create(rng, DType.BF16, [1021, 3]);
        using var back = Tensor.Allocate(DType.BF16, 1021, 3);
        using (var device = CudaBuffer.FromHost(host))
            device.Download(back);
        Assert.That(RandomTensors.Bytes(back), Is.EqualTo(RandomTensors.Bytes(host)));
    }

    /// <summary>Many tiles, tails in both directions, ranks across the rank-chunk boundaries.</summary>
    [TestCase(DType.BF16, DType.BF16)]
    [TestCase(DType.F16, DType.F16)]
    [TestCase(DType.F32, DType.BF16)]
    [TestCase(DType.BF16, DType.F32)]
    [TestCase(DType.F16, DType.BF16)]
    public void LargeMerge_MatchesReference(DType wType, DType factorType)
    {
        foreach (bool fanInFanOut in new[] { false, true })
        {
            LowRankMergeTests.RunCase(_backend, TestBackends.Cuda, wType, fanInFanOut, 256, 512, [(64, factorType)]);
            LowRankMergeTests.RunCase(_backend, TestBackends.Cuda, wType, fanInFanOut, 301, 259, [(16, factorType)]);
            LowRankMergeTests.RunCase(_backend, TestBackends.Cuda, wType, fanInFanOut, 130, 200, [(65, factorType), (8, factorType)]);
            LowRankMergeTests.RunCase(_backend, TestBackends.Cuda, wType, fanInFanOut, 96, 136, [(96, factorType), (3, factorType)]);
        }
    }

    [Test]
    public void MoreFactorsThanOneLaunch_MatchesReference()
    {
        var factors = Enumerable.Range(0, CudaNativeMethods.MaxFactors + 6)
            .Select(k => (k % 3 + 1, TestBackends.KernelDTypes[k % 3])).ToArray();
        LowRankMergeTests.RunCase(_backend, TestBackends.Cuda, DType.BF16, false, 37, 45, factors);
        LowRankMergeTests.RunCase(_backend, TestBackends.Cuda, DType.F32, true, 37, 45, factors);
    }

    [Test]
    public void MoreInputsThanOneLaunch_MatchesReference()
    {
        foreach (DType outType in TestBackends.KernelDTypes)
            AffineTests.RunCase(_backend, TestBackends.Cuda, DType.F16, outType, [1027], 70);
    }

    [Test]
    public unsafe void NativeChecks_RefuseBadArgumentsWithAMessage()
    {
        using var w = CudaBuffer.Allocate(64);
        var factor = new NativeLowRankFactor { B = (void*)w.Pointer, A = (void*)w.Pointer, DType = 0, Rank = 1, Scale = 1 };
        NativeStatus status = CudaNativeMethods.pn_cuda_lowrank_merge(0, w.Pointer, 2, 2, 0, 1, &factor, 0);
        var ex = Assert.Throws<ArgumentException>(() => CudaLibraryLoader.ThrowIfFailed(status));
        Assert.That(ex!.Message, Does.Contain("overlaps"));
        ex = Assert.Throws<ArgumentException>(() =>
            CudaLibraryLoader.ThrowIfFailed(CudaNativeMethods.pn_cuda_convert(7, w.Pointer, 0, w.Pointer, 4, 0)));
        Assert.That(ex!.Message, Does.Contain("unknown src_dtype 7"));
        Assert.Throws<OutOfMemoryException>(() => CudaBuffer.Allocate(1L << 50).Dispose());
        using var still = CudaBuffer.Allocate(16); // the failed allocation left the context usable
        Assert.That(still.ByteLength, Is.EqualTo(16));
    }
}
