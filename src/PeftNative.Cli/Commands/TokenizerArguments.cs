using PeftNative.Models.Tokenization;

namespace PeftNative.Cli.Commands;

/// <summary>Loads a model directory's tokenizer for the commands: on failure null and a one-line reason.</summary>
internal static class TokenizerArguments
{
    public static TextTokenizer? TryLoad(string modelDirectory, out string? error)
    {
        error = null;
        try
        {
            return TextTokenizer.Load(modelDirectory);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            error = AdapterArguments.OneLine(e.Message);
            return null;
        }
    }
}
