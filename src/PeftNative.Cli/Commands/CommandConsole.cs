namespace PeftNative.Cli.Commands;

/// <summary>Input files and warnings of the evaluation commands.</summary>
internal static class CommandConsole
{
    /// <summary>A UTF-8 file's text; on failure null and a one-line reason naming the option.</summary>
    public static string? ReadText(string path, string option, out string? error)
    {
        error = null;
        try
        {
            return File.ReadAllText(path, new System.Text.UTF8Encoding(false, throwOnInvalidBytes: true));
        }
        catch (System.Text.DecoderFallbackException)
        {
            error = $"{option} {Path.GetFullPath(path)}: not UTF-8 text";
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            error = $"{option} {Path.GetFullPath(path)}: {AdapterArguments.OneLine(e.Message)}";
        }
        return null;
    }

    /// <summary>A warning on standard error (standard output stays clean for --json).</summary>
    public static void Warn(string message) => Console.Error.WriteLine("warning: " + message.ReplaceLineEndings(" "));
}
