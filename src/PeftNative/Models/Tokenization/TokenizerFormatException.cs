namespace PeftNative.Models.Tokenization;

/// <summary>A tokenizer file that cannot be used: missing, unreadable, malformed, or a kind of tokenizer this build does not support.</summary>
public sealed class TokenizerFormatException : FileFormatException
{
    /// <summary>Creates the exception; the message is <c>FILE: problem</c>.</summary>
    public TokenizerFormatException(string filePath, string problem, Exception? inner = null)
        : base($"{filePath}: {problem}", filePath, problem, inner)
    {
    }
}
