namespace PeftNative.Adapters;

/// <summary>
/// A PEFT adapter directory or Hugging Face model directory that cannot be used: bad or missing
/// config fields, tensors that do not match the config, unsupported formats. The message names
/// the file and the field or tensor.
/// </summary>
public sealed class AdapterFormatException : FileFormatException
{
    /// <summary>Creates the exception; the message is prefixed with the file and, if given, the key.</summary>
    public AdapterFormatException(string filePath, string? key, string problem, Exception? inner = null)
        : base(key is null ? $"{filePath}: {problem}" : $"{filePath}: '{key}': {problem}", filePath, problem, inner)
    {
        Key = key;
    }

    /// <summary>The config field or tensor the problem is about, if any.</summary>
    public string? Key { get; }
}
