namespace PeftNative.Merging;

/// <summary>Where a merge stands, reported after each tensor.</summary>
/// <param name="TensorName">The tensor just written.</param>
/// <param name="TensorsDone">Tensors written so far.</param>
/// <param name="TensorsTotal">Tensors in the model.</param>
/// <param name="BytesDone">Input bytes processed so far.</param>
/// <param name="BytesTotal">Input bytes in the model.</param>
public readonly record struct MergeProgress(string TensorName, int TensorsDone, int TensorsTotal, long BytesDone, long BytesTotal);
