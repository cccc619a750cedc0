namespace PeftNative.Demo;

/// <summary>How <see cref="DemoRunner"/> runs.</summary>
public sealed record DemoOptions
{
    /// <summary>Directory for the files (created; must hold no demo files yet).</summary>
    public required string Root { get; init; }

    /// <summary>The model's shape.</summary>
    public DemoModelShape Shape { get; init; } = new();

    /// <summary>Tokens evaluated for perplexity and the agreement check.</summary>
    public int Tokens { get; init; } = 128;

    /// <summary>Worker threads (&lt;= 0: all logical CPUs).</summary>
    public int Threads { get; init; }

    /// <summary>Kernel backend name; null: environment, else auto.</summary>
    public string? Backend { get; init; }

    /// <summary>Receives one-line notices (backend fallback); default standard error.</summary>
    public Action<string>? Diagnostics { get; init; }
}
