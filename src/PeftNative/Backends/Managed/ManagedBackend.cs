namespace PeftNative.Backends.Managed;

/// <summary>PLACEHOLDER — being written by the managed-backend helper; do not edit.</summary>
public sealed class ManagedBackend : KernelBackend
{
    /// <summary>Creates the backend.</summary>
    public ManagedBackend(int threads = 0) : base(threads) { }

    /// <inheritdoc />
    public override string Name => "managed";

    /// <inheritdoc />
    protected override void AffineCore(ReadOnlySpan<Tensor> inputs, ReadOnlySpan<float> weights, float constant, Tensor output) => throw new NotImplementedException();
    /// <inheritdoc />
    protected override void LowRankMergeCore(Tensor weight, ReadOnlySpan<LowRankUpdate> updates, bool fanInFanOut) => throw new NotImplementedException();
    /// <inheritdoc />
    protected override void ScaleRowsCore(Tensor weight, Tensor scale, bool inverse) => throw new NotImplementedException();
    /// <inheritdoc />
    protected override void ScaleColumnsCore(Tensor weight, Tensor scale, bool inverse) => throw new NotImplementedException();
    /// <inheritdoc />
    protected override void ConvertCore(Tensor source, Tensor destination) => throw new NotImplementedException();
}
