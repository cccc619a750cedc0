namespace PeftNative;

/// <summary>
/// An input file that cannot be used as it is: a broken safetensors file, a bad adapter config,
/// tensors that disagree with their config. Catch this to handle every bad-input case at once;
/// the subclasses say which kind of file it was.
/// </summary>
public abstract class FileFormatException : IOException
{
    /// <summary>Creates the exception with a finished message.</summary>
    protected FileFormatException(string message, string filePath, string problem, Exception? inner)
        : base(message, inner)
    {
        FilePath = filePath;
        Problem = problem;
    }

    /// <summary>The file that is wrong.</summary>
    public string FilePath { get; }

    /// <summary>What is wrong, without the file prefix.</summary>
    public string Problem { get; }
}
