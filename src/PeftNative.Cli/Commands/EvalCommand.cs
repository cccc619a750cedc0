using System.CommandLine;
using System.Globalization;
using PeftNative.Evaluation;

namespace PeftNative.Cli.Commands;

/// <summary>
/// <c>peftnative eval --model DIR [adapters] (--text FILE | --tokens 1,2,3 | --token-file FILE) [--ctx N] [--stride N] [--json]</c>:
/// perplexity of a text or token sequence with the model (and adapters), by
/// <see cref="PerplexityEvaluator"/>'s sliding window. <c>--json</c> prints <c>perplexity</c>,
/// <c>tokens</c> and <c>token_logprobs</c> (entry i: log p(tokens[i+1] | tokens before it in its window)).
/// Exit codes: 0; 2 for a missing or broken input (model, adapter, tokenizer, file, ids outside
/// the vocabulary) or bad usage.
/// </summary>
public static class EvalCommand
{
    private const string UsageLine = "usage: peftnative eval " + ModelArguments.UsagePart + " (--text FILE | --tokens 1,2,3 | --token-file FILE) [--ctx N] [--stride N] [--json]";

    /// <summary>Creates the <c>eval</c> subcommand.</summary>
    public static Command Create()
    {
        var model = new ModelArguments();
        var text = new Option<string?>("--text") { Description = "A UTF-8 text file, tokenized with the model's tokenizer (BOS as its tokenizer_config says).", HelpName = "FILE" };
        var tokens = new Option<string?>("--tokens") { Description = "Token ids, comma-separated.", HelpName = "1,2,3" };
        var tokenFile = new Option<string?>("--token-file") { Description = "A file of token ids separated by commas or white space.", HelpName = "FILE" };
        var ctx = new Option<int?>("--ctx") { Description = "Tokens per window (default: the model's maximum sequence length).", HelpName = "N" };
        var stride = new Option<int?>("--stride") { Description = "How far each window moves (default ctx/2). Every token after the first is scored once, with the tokens of its window before it as context; with stride = ctx a window's first token is not scored.", HelpName = "N" };
        var json = new Option<bool>("--json") { Description = "Print one JSON object: perplexity, log_likelihood, scored_tokens, ctx, stride, windows, tokens, token_logprobs." };
        var command = new Command("eval",
            "Perplexity of a text or token sequence under the model with its adapters (merged, or at run time with --runtime), over a sliding window " +
            "as Hugging Face's perplexity recipe does. Exit code 0; 2 for a missing or broken input or bad usage.");
        model.AddTo(command);
        foreach (Option o in (Option[])[text, tokens, tokenFile, ctx, stride, json])
            command.Options.Add(o);
        command.Action = new EvalAction(model, text, tokens, tokenFile, ctx, stride, json);
        return command;
    }

    private sealed class EvalAction(ModelArguments modelArgs, Option<string?> text, Option<string?> tokens, Option<string?> tokenFile,
        Option<int?> ctx, Option<int?> stride, Option<bool> json) : ModelCommandAction("eval", UsageLine, modelArgs)
    {
        protected override int Run(ParseResult parse, ModelRequest request)
        {
            string? textFile = parse.GetValue(text), tokenText = parse.GetValue(tokens), tokenPath = parse.GetValue(tokenFile);
            int given = new[] { textFile, tokenText, tokenPath }.Count(v => v is not null);
            if (given != 1)
                return Fail(ExitCodes.Usage, $"give exactly one of --text FILE, --tokens 1,2,3, --token-file FILE ({Usage})");
            var options = new PerplexityOptions { ContextLength = parse.GetValue(ctx), Stride = parse.GetValue(stride) };
            if (options.ContextLength < 2)
                return Fail(ExitCodes.Usage, $"--ctx needs a whole number >= 2, got {options.ContextLength}");
            if (options.Stride < 1)
                return Fail(ExitCodes.Usage, $"--stride needs a whole number >= 1, got {options.Stride}");
            if (options.Stride > options.ContextLength)
                return Fail(ExitCodes.Usage, $"--stride {options.Stride} is larger than --ctx {options.ContextLength}");
            int[]? ids = null;
            if (tokenText is not null && (ids = TokenArguments.TryParse(tokenText, "--tokens", out string? tokenError)) is null)
                return Fail(ExitCodes.Usage, tokenError!);

            if (tokenPath is not null)
            {
                string? content = CommandConsole.ReadText(tokenPath, "--token-file", out string? readError);
                if (content is null)
                    return Fail(ExitCodes.InputError, readError!);
                if ((ids = TokenArguments.TryParse(content, tokenPath, out string? fileError)) is null)
                    return Fail(ExitCodes.InputError, fileError!);
            }
            if (textFile is not null)
            {
                var tokenizer = TokenizerArguments.TryLoad(request.ModelDirectory, out string? tokenizerError);
                if (tokenizer is null)
                    return Fail(ExitCodes.InputError, "--text needs the model's tokenizer: " + tokenizerError);
                string? content = CommandConsole.ReadText(textFile, "--text", out string? readError);
                if (content is null)
                    return Fail(ExitCodes.InputError, readError!);
                ids = tokenizer.Encode(content);
            }
            if (ids!.Length < 2)
                return Fail(ExitCodes.InputError, $"perplexity needs at least 2 tokens; the input has {ids.Length}");

            using var loaded = Load(request, out int loadFailure);
            if (loaded is null)
                return loadFailure;
            PerplexityResult result;
            try
            {
                result = PerplexityEvaluator.Evaluate(loaded.Model, ids, options);
            }
            catch (Exception e) when (e is ArgumentException or InvalidDataException)
            {
                return Fail(ExitCodes.InputError, AdapterArguments.OneLine(e.Message));
            }
            Console.Out.WriteLine(parse.GetValue(json) ? ToJson(result) : ToText(result));
            return 0;
        }
    }

    private static string ToText(PerplexityResult r)
    {
        var inv = CultureInfo.InvariantCulture;
        return string.Create(inv,
            $"perplexity {r.Perplexity:G6} over {r.ScoredTokens} scored tokens ({r.Tokens.Count} tokens, ctx {r.ContextLength}, stride {r.Stride}, {r.Windows} window{(r.Windows == 1 ? "" : "s")})\n") +
            string.Create(inv, $"log-likelihood {r.LogLikelihood:G8} (mean {r.LogLikelihood / r.ScoredTokens:G6} per token)");
    }

    private static string ToJson(PerplexityResult r) => EvaluationJson.Object(w =>
    {
        EvaluationJson.Number(w, "perplexity", r.Perplexity);
        w.WriteNumber("log_likelihood", r.LogLikelihood);
        w.WriteNumber("scored_tokens", r.ScoredTokens);
        w.WriteNumber("ctx", r.ContextLength);
        w.WriteNumber("stride", r.Stride);
        w.WriteNumber("windows", r.Windows);
        EvaluationJson.Ids(w, "tokens", r.Tokens);
        EvaluationJson.Numbers(w, "token_logprobs", r.TokenLogProbs);
    });
}
