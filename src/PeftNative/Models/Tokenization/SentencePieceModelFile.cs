using Google.Protobuf;
using Microsoft.ML.Tokenizers;

namespace PeftNative.Models.Tokenization;

/// <summary>Loads a SentencePiece model (tokenizer.model, a serialized ModelProto) through <see cref="SentencePieceTokenizer"/>, BOS/EOS left to the caller.</summary>
internal static class SentencePieceModelFile
{
    /// <exception cref="TokenizerFormatException">The file cannot be read or is not a SentencePiece model the library supports.</exception>
    public static SentencePieceTokenizer Load(string path, IReadOnlyDictionary<string, int> specialTokens)
    {
        byte[] bytes;
        try
        {
            bytes = File.ReadAllBytes(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new TokenizerFormatException(path, $"cannot be read ({e.Message})", e);
        }
        if (bytes.Length == 0)
            throw new TokenizerFormatException(path, "is empty, not a SentencePiece model");
        try
        {
            using var stream = new MemoryStream(bytes, writable: false);
            return SentencePieceTokenizer.Create(stream, addBeginningOfSentence: false, addEndOfSentence: false,
                specialTokens.Count > 0 ? specialTokens : null);
        }
        catch (Exception e) when (e is InvalidProtocolBufferException or ArgumentException or InvalidOperationException
            or NotSupportedException or IndexOutOfRangeException or KeyNotFoundException or FormatException or OverflowException)
        {
            throw new TokenizerFormatException(path, $"is not a usable SentencePiece model ({e.GetType().Name}: {e.Message})", e);
        }
    }
}
