namespace PeftNative.SafeTensors;

/// <summary>
/// A safetensors file (or sharded checkpoint index) that breaks the format's rules. The message
/// names the file and, where one is involved, the tensor.
/// </summary>
public sealed class SafetensorsFormatException : FileFormatException
{
    /// <summary>Creates the exception; the message is prefixed with the file and tensor.</summary>
    public SafetensorsFormatException(string filePath, string? tensorName, string problem, Exception? inner = null)
        : base(Compose(filePath, tensorName, problem), filePath, problem, inner)
    {
        TensorName = tensorName;
    }

    /// <summary>The tensor the problem is about, or null for whole-file problems.</summary>
    public string? TensorName { get; }

    private static string Compose(string filePath, string? tensorName, string problem) =>
        tensorName is null ? $"{filePath}: {problem}" : $"{filePath}: tensor '{tensorName}': {problem}";
}
