namespace PeftNative.Tests.SafeTensors;

/// <summary>Where the committed corpus lives (tests/corpus/safetensors above the test assembly).</summary>
internal static class Corpus
{
    private static readonly Lazy<string> RootPath = new(() =>
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            string candidate = System.IO.Path.Combine(dir.FullName, "tests", "corpus", "safetensors");
            if (Directory.Exists(candidate))
                return candidate;
        }
        throw new DirectoryNotFoundException("tests/corpus/safetensors not found above " + AppContext.BaseDirectory);
    });

    public static string Root => RootPath.Value;

    public static string Valid => System.IO.Path.Combine(Root, "valid");

    public static string Broken => System.IO.Path.Combine(Root, "broken");
}
