using System.CommandLine;
using System.Globalization;
using PeftNative.Adapters;
using PeftNative.Backends;
using PeftNative.Merging;

namespace PeftNative.Cli.Commands;

/// <summary>
/// The options <c>merge</c> and <c>unmerge</c> share (--model, --adapter, --out, --dtype,
/// --max-shard-size, --allow-nonfinite, --threads, --backend, --json) and their parsing into
/// <see cref="MergeOptions"/>; bad values are one-line usage errors.
/// </summary>
internal sealed class MergeArguments
{
    public Option<string?> Model { get; } = new("--model") { Description = "The base model: a Hugging Face model directory with config.json and safetensors weights (required).", HelpName = "DIR" };

    public Option<string[]> Adapters { get; } = new("--adapter") { HelpName = "DIR" };

    public Option<string?> Out { get; } = new("--out") { Description = "Directory to create (required); it appears only when complete. It may exist only empty or as an earlier PeftNative output, which is replaced.", HelpName = "DIR" };

    public Option<string?> DType { get; } = new("--dtype") { Description = "Output dtype of float weights: keep (default), f32, bf16 or f16.", HelpName = "keep|f32|bf16|f16" };

    public Option<string?> MaxShardSize { get; } = new("--max-shard-size") { Description = "Cut the weights into shards of at most SIZE (e.g. 2GB, 500MB, 1GiB) with an index; default: shard like the input.", HelpName = "SIZE" };

    public Option<bool> AllowNonFinite { get; } = new("--allow-nonfinite") { Description = "Write the output even when a merged tensor holds NaN or Inf (default: stop, naming the tensor)." };

    public Option<string?> Threads { get; } = new("--threads") { Description = "Kernel threads (default: all logical CPUs).", HelpName = "N" };

    public Option<string?> Backend { get; } = new("--backend") { Description = $"Kernel backend: {string.Join(", ", KernelBackendFactory.Names)} (default: {KernelBackendFactory.EnvironmentVariable}, else auto).", HelpName = "NAME" };

    public Option<bool> Json { get; } = new("--json") { Description = "Print one JSON object (tensors touched, bytes read and written, seconds, peak memory) instead of the summary." };

    /// <summary>Every option, to add to a command.</summary>
    public IEnumerable<Option> All => [Model, Adapters, Out, DType, MaxShardSize, AllowNonFinite, Threads, Backend, Json];

    /// <summary>Loads the adapter directory; on failure reports one line for <paramref name="command"/> and returns null with the exit code.</summary>
    public static PeftAdapter? TryLoadAdapter(string command, string directory, out int exitCode)
    {
        exitCode = 0;
        try
        {
            return PeftAdapter.Load(directory);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            exitCode = ExitCodes.Fail(command, ExitCodes.InputError, $"adapter: {AdapterArguments.OneLine(e.Message)}");
            return null;
        }
    }

    /// <summary>The model, output and options (after the parser's own errors); null and a one-line reason on bad usage.</summary>
    public (string Model, string Out, MergeOptions Options)? TryParse(ParseResult parse, string usageLine, out string? usage)
    {
        usage = null;
        if (parse.Errors.Count > 0)
        {
            usage = $"{parse.Errors[0].Message} ({usageLine})";
            return null;
        }
        if (parse.UnmatchedTokens.Count > 0)
        {
            usage = $"unexpected argument '{parse.UnmatchedTokens[0]}' ({usageLine})";
            return null;
        }
        string? model = parse.GetValue(Model), output = parse.GetValue(Out);
        if (string.IsNullOrWhiteSpace(model))
        {
            usage = $"--model DIR is required ({usageLine})";
            return null;
        }
        if (string.IsNullOrWhiteSpace(output))
        {
            usage = $"--out DIR is required ({usageLine})";
            return null;
        }
        var options = new MergeOptions { AllowNonFinite = parse.GetValue(AllowNonFinite) };
        if (parse.GetValue(DType) is { } dtypeText)
        {
            switch (dtypeText.Trim().ToLowerInvariant())
            {
                case "keep": break;
                case "f32" or "float32": options = options with { OutputDType = PeftNative.DType.F32 }; break;
                case "bf16" or "bfloat16": options = options with { OutputDType = PeftNative.DType.BF16 }; break;
                case "f16" or "float16": options = options with { OutputDType = PeftNative.DType.F16 }; break;
                default:
                    usage = $"--dtype needs keep, f32, bf16 or f16, got '{dtypeText}'";
                    return null;
            }
        }
        if (parse.GetValue(MaxShardSize) is { } sizeText)
        {
            if (ByteSize.TryParse(sizeText) is not { } bytes)
            {
                usage = $"--max-shard-size needs a positive size such as 2GB, 500MB or 1GiB, got '{sizeText}'";
                return null;
            }
            options = options with { MaxShardBytes = bytes };
        }
        if (parse.GetValue(Threads) is { } threadText)
        {
            if (!int.TryParse(threadText, NumberStyles.None, CultureInfo.InvariantCulture, out int threads) || threads < 1 || threads > 4096)
            {
                usage = $"--threads needs a whole number from 1 to 4096, got '{threadText}'";
                return null;
            }
            options = options with { Threads = threads };
        }
        if (parse.GetValue(Backend) is { } backendText)
        {
            string name = backendText.Trim().ToLowerInvariant();
            if (!KernelBackendFactory.Names.Contains(name))
            {
                usage = $"unknown backend '{backendText}' (expected one of {string.Join(", ", KernelBackendFactory.Names)})";
                return null;
            }
            options = options with { Backend = name };
        }
        return (model, output, options);
    }
}
