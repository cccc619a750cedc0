namespace PeftNative.Tests;

/// <summary>
/// Locates the shared test fixtures (real PEFT adapters, reference models) that live beside the
/// repository in ../shared/fixtures. Order: PEFTNATIVE_FIXTURES, then a shared/fixtures folder
/// in the repository's directory or any directory above it. Tests that need them call
/// <see cref="Require"/>: with CI=true or PEFTNATIVE_REQUIRE_FIXTURES=1 a missing fixture fails
/// the test, otherwise it is skipped with the reason.
/// </summary>
internal static class Fixtures
{
    private static readonly Lazy<string?> RootPath = new(Locate);

    /// <summary>The fixtures root (holding real-adapters/ and reference-models/), or null when not found.</summary>
    public static string? Root => RootPath.Value;

    /// <summary>Path of a fixture relative to the root ("real-adapters/gpt2-tigrinya-lora"), failing or skipping when absent.</summary>
    public static string Require(string relativePath)
    {
        string? root = Root;
        string? full = root is null ? null : Path.Combine(root, relativePath);
        if (full is not null && (File.Exists(full) || Directory.Exists(full)))
            return full;
        string why = root is null
            ? "the shared fixtures were not found (set PEFTNATIVE_FIXTURES to the fixtures folder)"
            : $"fixture {relativePath} is missing under {root}";
        if (Required)
            Assert.Fail(why);
        Assert.Ignore(why + " (set CI=true or PEFTNATIVE_REQUIRE_FIXTURES=1 to make this a failure)");
        return full!; // unreachable: Assert.Ignore throws
    }

    /// <summary>A fixture under reference-models/.</summary>
    public static string ReferenceModel(string relativePath) => Require(Path.Combine("reference-models", relativePath));

    /// <summary>A fixture under real-adapters/.</summary>
    public static string RealAdapter(string name) => Require(Path.Combine("real-adapters", name));

    private static bool Required =>
        string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase)
        || Environment.GetEnvironmentVariable("PEFTNATIVE_REQUIRE_FIXTURES") == "1";

    private static string? Locate()
    {
        string? fromEnv = Environment.GetEnvironmentVariable("PEFTNATIVE_FIXTURES");
        if (!string.IsNullOrEmpty(fromEnv))
            return Directory.Exists(fromEnv) ? Path.GetFullPath(fromEnv) : null;
        // Start from the test assembly (repo/tests/PeftNative.Tests/bin/...) and walk up: the
        // repository sits beside shared/, and CI clones may sit elsewhere with shared/ above.
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            string candidate = Path.Combine(dir.FullName, "shared", "fixtures");
            if (Directory.Exists(Path.Combine(candidate, "reference-models")))
                return candidate;
        }
        const string workspaceDefault = "/work/shared/fixtures";
        return Directory.Exists(workspaceDefault) ? workspaceDefault : null;
    }
}
