namespace PeftNative.Tests.NativeApi;

/// <summary>
/// libpeftnative.so published with NativeAOT once per test run (a publish takes a minute or more)
/// into a temporary folder removed at the end of the run, and the C example compose_example.c
/// compiled against it. When the publish fails for want of the toolchain the tests are ignored
/// with the reason; when it fails on a compiler diagnostic (error CS..., IL... AOT/trim analysis)
/// they fail, as that is a defect of the code, not of the machine.
/// </summary>
internal static class PublishedNativeApi
{
    private static readonly Lazy<(string? Example, string? Problem, bool IsDefect)> Built = new(Build);

    private static readonly string Root = Path.Combine(Path.GetTempPath(), $"peftnative-nativeapi-{Environment.ProcessId}-{Guid.NewGuid():N}");

    /// <summary>The compiled compose_example, linked to the published library (ignores or fails the test when there is none).</summary>
    public static string Example
    {
        get
        {
            var (example, problem, isDefect) = Built.Value;
            if (example is not null)
                return example;
            if (isDefect)
                Assert.Fail(problem!);
            Assert.Ignore(problem!);
            return ""; // unreachable: Assert.Ignore throws
        }
    }

    /// <summary>Removes the published files (from the namespace's one-time teardown).</summary>
    public static void Delete()
    {
        if (Directory.Exists(Root))
            Directory.Delete(Root, recursive: true);
    }

    private static (string?, string?, bool) Build()
    {
        string publish = Path.Combine(Root, "publish");
        string dotnet = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host ? host : "dotnet";
        string project = Path.Combine(CCompiler.RepoRoot, "src", "PeftNative.NativeApi", "PeftNative.NativeApi.csproj");
        // A child build of its own: no MSBuild state inherited from the `dotnet test` that runs us,
        // and no build servers left behind once it is done.
        var environment = Environment.GetEnvironmentVariables().Keys.Cast<string>()
            .Where(k => k.StartsWith("MSBUILD", StringComparison.OrdinalIgnoreCase))
            .ToDictionary(k => k, _ => (string?)null);
        var (rc, stdout, stderr) = ExternalProcess.Run(dotnet,
            ["publish", project, "-c", "Release", "-r", "linux-x64", "-o", publish, "-nodeReuse:false", "-p:UseSharedCompilation=false", "-clp:ErrorsOnly"],
            TimeSpan.FromMinutes(9), environment);
        string library = Path.Combine(publish, "libpeftnative.so");
        if (rc != 0 || !File.Exists(library))
        {
            string log = (stdout + stderr).Trim();
            bool defect = System.Text.RegularExpressions.Regex.IsMatch(log, @"error (CS|IL)\d{4}");
            return (null, $"dotnet publish of the NativeAOT library {(defect ? "failed on a diagnostic" : "is not possible here")} (exit {rc}): {Tail(log)}", defect);
        }
        string example = Path.Combine(Root, "compose_example");
        CCompiler.Compile(Path.Combine(CCompiler.RepoRoot, "src", "PeftNative.NativeApi", "examples", "compose_example.c"),
            Path.Combine(CCompiler.RepoRoot, "src", "PeftNative.NativeApi", "include"), library, example);
        return (example, null, false);
    }

    private static string Tail(string log) => log.Length <= 3000 ? log : "..." + log[^3000..];
}

/// <summary>Removes the published library after every test of this namespace ran.</summary>
[SetUpFixture]
public sealed class NativeApiCleanup
{
    [OneTimeTearDown]
    public void RemovePublishedLibrary() => PublishedNativeApi.Delete();
}
