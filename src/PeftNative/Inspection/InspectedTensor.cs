namespace PeftNative.Inspection;

/// <summary>One tensor as <c>inspect</c> lists it.</summary>
/// <param name="Name">Header key.</param>
/// <param name="DType">safetensors dtype name ("F32", "BF16", ...).</param>
/// <param name="Shape">Dimensions.</param>
/// <param name="Bytes">Data bytes.</param>
/// <param name="Elements">Product of the dimensions.</param>
/// <param name="File">File name (without directory) the tensor lives in.</param>
public sealed record InspectedTensor(string Name, string DType, IReadOnlyList<long> Shape, long Bytes, long Elements, string File);
