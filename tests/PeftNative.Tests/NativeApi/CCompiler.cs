namespace PeftNative.Tests.NativeApi;

/// <summary>
/// Compiles a C example with the system C compiler (cc, gcc or clang) against a header folder and
/// one shared library, with the warnings the native build uses, as errors. No compiler: the test is
/// ignored with the reason (CI installs gcc, so there it always runs).
/// </summary>
internal static class CCompiler
{
    /// <summary>The repository root (the folder holding PeftNative.sln).</summary>
    public static string RepoRoot { get; } = FindRepoRoot();

    /// <summary>Compiles <paramref name="source"/> into <paramref name="executable"/>, linked to <paramref name="library"/> (found at run time through an rpath).</summary>
    public static void Compile(string source, string includeDirectory, string library, string executable)
    {
        string compiler = ExternalProcess.FindOnPath("cc", "gcc", "clang")
            ?? Ignore("no C compiler (cc, gcc or clang) on PATH");
        string libDir = Path.GetDirectoryName(library)!;
        var (rc, stdout, stderr) = ExternalProcess.Run(compiler,
            ["-std=c11", "-O1", "-Wall", "-Wextra", "-Wpedantic", "-Werror", "-I", includeDirectory, source, "-o", executable,
             "-L", libDir, "-l:" + Path.GetFileName(library), "-Wl,-rpath," + libDir, "-lm"],
            TimeSpan.FromMinutes(2));
        Assert.That(rc, Is.Zero, $"{compiler} failed on {source}:\n{stdout}{stderr}");
    }

    private static string Ignore(string why)
    {
        Assert.Ignore(why);
        return ""; // unreachable: Assert.Ignore throws
    }

    private static string FindRepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "PeftNative.sln")))
                return dir.FullName;
        throw new DirectoryNotFoundException("PeftNative.sln not found above " + AppContext.BaseDirectory);
    }
}
