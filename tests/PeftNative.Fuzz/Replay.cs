namespace PeftNative.Fuzz;

/// <summary>Runs saved inputs through a target without AFL: for crash reproduction and CI corpus replay.</summary>
internal static class Replay
{
    public static int Run(string targetName, FuzzTarget target, ReadOnlySpan<string> paths)
    {
        var files = new List<string>();
        foreach (string path in paths)
        {
            if (Directory.Exists(path))
            {
                // Hidden entries are skipped (AFL's queue/.state holds links to the same inputs),
                // and so is the README.txt AFL writes beside crash inputs.
                var options = new EnumerationOptions { RecurseSubdirectories = true, AttributesToSkip = FileAttributes.Hidden };
                files.AddRange(Directory.EnumerateFiles(path, "*", options)
                    .Where(f => !string.Equals(Path.GetFileName(f), "README.txt", StringComparison.Ordinal))
                    .Order(StringComparer.Ordinal));
            }
            else if (File.Exists(path))
            {
                files.Add(path);
            }
            else
            {
                Console.Error.WriteLine($"PeftNative.Fuzz: no such file or directory: {path}");
                return 2;
            }
        }

        int findings = 0;
        foreach (string file in files)
        {
            byte[] input = File.ReadAllBytes(file);
            try
            {
                target(input);
            }
            catch (Exception e)
            {
                findings++;
                Console.WriteLine($"FINDING {targetName} {file} ({input.Length} bytes): {e.GetType().FullName}");
                Console.WriteLine(e.ToString());
            }
        }
        Console.WriteLine($"replay {targetName}: {files.Count} inputs, {findings} findings");
        return findings == 0 && files.Count > 0 ? 0 : 1;
    }
}
