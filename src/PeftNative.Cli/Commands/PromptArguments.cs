using System.CommandLine;

namespace PeftNative.Cli.Commands;

/// <summary>The prompt of <c>score</c> and <c>generate</c>: <c>--prompt P</c> (text) or <c>--prompt-tokens 1,2,3</c>, exactly one.</summary>
internal sealed class PromptArguments
{
    public Option<string?> Text { get; } = new("--prompt") { Description = "The prompt text (tokenized with the model's tokenizer, BOS as its tokenizer_config says).", HelpName = "P" };

    public Option<string?> Tokens { get; } = new("--prompt-tokens") { Description = "The prompt as token ids, comma-separated.", HelpName = "1,2,3" };

    /// <summary>Adds the options to <paramref name="command"/>.</summary>
    public void AddTo(Command command)
    {
        command.Options.Add(Text);
        command.Options.Add(Tokens);
    }

    /// <summary>The prompt as given: its text, or its ids. False and a one-line usage reason when neither or both are given or the ids are bad.</summary>
    public bool TryParse(ParseResult parse, string usage, out string? text, out int[]? ids, out string? error)
    {
        text = parse.GetValue(Text);
        string? idText = parse.GetValue(Tokens);
        ids = null;
        error = null;
        if ((text is null) == (idText is null))
        {
            error = $"give exactly one of --prompt P, --prompt-tokens 1,2,3 ({usage})";
            return false;
        }
        return idText is null || (ids = TokenArguments.TryParse(idText, "--prompt-tokens", out error)) is not null;
    }
}
