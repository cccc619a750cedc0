using System.CommandLine;
using System.Globalization;
using System.Text;
using System.Text.Json;
using PeftNative.Evaluation;
using PeftNative.Models.Tokenization;

namespace PeftNative.Cli.Commands;

/// <summary>
/// <c>peftnative score --model DIR [adapters] (--prompt P | --prompt-tokens IDS) (--choices "x|y|z" | --choice-tokens "1,2|3") [--json]</c>:
/// the log-likelihood of each continuation after the prompt (<see cref="ChoiceScorer"/>): sum, mean
/// per token and token count of each, and the best one, by the highest sum. Text choices are
/// tokenized as they follow the prompt (see <see cref="TextTokenizer.EncodeContinuation"/>) and kept
/// exactly as written: a leading space belongs to the choice. Exit codes: 0; 2 for a missing or
/// broken input or bad usage.
/// </summary>
public static class ScoreCommand
{
    private const string UsageLine = "usage: peftnative score " + ModelArguments.UsagePart + " (--prompt P | --prompt-tokens 1,2) (--choices \"x|y|z\" | --choice-tokens \"1,2|3\") [--json]";

    /// <summary>Creates the <c>score</c> subcommand.</summary>
    public static Command Create()
    {
        var model = new ModelArguments();
        var prompt = new PromptArguments();
        var choices = new Option<string?>("--choices") { Description = "Continuations separated by '|', kept exactly as written (\" Paris| London\").", HelpName = "x|y|z" };
        var choiceTokens = new Option<string?>("--choice-tokens") { Description = "Continuations as token ids: choices separated by '|', ids by ','.", HelpName = "1,2|3|4" };
        var json = new Option<bool>("--json") { Description = "Print one JSON object: prompt_tokens, best, best_by, and per choice text, tokens, sum, mean, token_count, token_logprobs." };
        var command = new Command("score",
            "Score continuations of a prompt by their log-likelihood under the model (sum of the continuation tokens' log-probabilities; mean per token and " +
            "token count reported too) and name the best, by the highest sum. Exit code 0; 2 for a missing or broken input or bad usage.");
        model.AddTo(command);
        prompt.AddTo(command);
        foreach (Option o in (Option[])[choices, choiceTokens, json])
            command.Options.Add(o);
        command.Action = new ScoreAction(model, prompt, choices, choiceTokens, json);
        return command;
    }

    private sealed class ScoreAction(ModelArguments modelArgs, PromptArguments prompt, Option<string?> choices,
        Option<string?> choiceTokens, Option<bool> json) : ModelCommandAction("score", UsageLine, modelArgs)
    {
        protected override int Run(ParseResult parse, ModelRequest request)
        {
            if (!prompt.TryParse(parse, Usage, out string? promptText, out int[]? promptTokenIds, out string? promptError))
                return Fail(ExitCodes.Usage, promptError!);
            string? choiceText = parse.GetValue(choices), choiceIds = parse.GetValue(choiceTokens);
            if ((choiceText is null) == (choiceIds is null))
                return Fail(ExitCodes.Usage, $"give exactly one of --choices \"x|y|z\", --choice-tokens \"1,2|3\" ({Usage})");

            string[]? texts = choiceText is null ? null : TokenArguments.SplitChoices(choiceText);
            if (texts?.FirstOrDefault(t => t.Length == 0) is not null)
                return Fail(ExitCodes.Usage, "--choices: a choice is empty");
            List<int[]>? choiceTokenIds = null;
            if (choiceIds is not null)
            {
                choiceTokenIds = [];
                foreach (string part in TokenArguments.SplitChoices(choiceIds))
                {
                    var ids = TokenArguments.TryParse(part, $"--choice-tokens choice {choiceTokenIds.Count + 1}", out string? e2);
                    if (ids is null)
                        return Fail(ExitCodes.Usage, e2!);
                    choiceTokenIds.Add(ids);
                }
            }

            if (promptText is not null || texts is not null)
            {
                var tokenizer = TokenizerArguments.TryLoad(request.ModelDirectory, out string? tokenizerError);
                if (tokenizer is null)
                    return Fail(ExitCodes.InputError, "text needs the model's tokenizer: " + tokenizerError);
                if (promptText is not null)
                    promptTokenIds = tokenizer.Encode(promptText);
                if (texts is not null)
                    choiceTokenIds = texts.Select(t => promptText is not null ? tokenizer.EncodeContinuation(promptText, t) : tokenizer.Encode(t, addSpecialTokens: false)).ToList();
            }
            if (promptTokenIds!.Length == 0)
                return Fail(ExitCodes.InputError, "the prompt has no tokens");

            using var loaded = Load(request, out int loadFailure);
            if (loaded is null)
                return loadFailure;
            ChoiceScoringResult result;
            try
            {
                result = ChoiceScorer.Score(loaded.Model, promptTokenIds, choiceTokenIds!.Select(c => (IReadOnlyList<int>)c).ToList());
            }
            catch (Exception e) when (e is ArgumentException or InvalidDataException)
            {
                return Fail(ExitCodes.InputError, AdapterArguments.OneLine(e.Message));
            }
            Console.Out.WriteLine(parse.GetValue(json) ? ToJson(result, texts) : ToText(result, texts));
            return 0;
        }
    }

    private static string Label(ChoiceScore c, string[]? texts) =>
        texts is null ? "[" + string.Join(",", c.Tokens) + "]" : JsonSerializer.Serialize(texts[c.Index], JsonOptions);

    private static readonly JsonSerializerOptions JsonOptions = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    private static string ToText(ChoiceScoringResult r, string[]? texts)
    {
        var inv = CultureInfo.InvariantCulture;
        var best = r.Best;
        var sb = new StringBuilder();
        sb.AppendLine(string.Create(inv, $"prompt: {r.PromptTokens.Count} tokens; {r.Choices.Count} choices scored by the sum of their tokens' log-probabilities"));
        sb.AppendLine("  choice          sum         mean  tokens  continuation");
        foreach (var c in r.Choices)
            sb.AppendLine(string.Create(inv, $"  {(c == best ? "*" : " ")}{c.Index,5} {c.Sum,12:F4} {c.Mean,12:F4} {c.TokenCount,7}  {Label(c, texts)}"));
        sb.Append(string.Create(inv, $"best: choice {best.Index} {Label(best, texts)} (highest sum of log-probabilities, {best.Sum:F4})"));
        return sb.ToString();
    }

    private static string ToJson(ChoiceScoringResult r, string[]? texts) => EvaluationJson.Object(w =>
    {
        EvaluationJson.Ids(w, "prompt_tokens", r.PromptTokens);
        w.WriteNumber("best", r.Best.Index);
        w.WriteString("best_by", "sum");
        w.WriteStartArray("choices");
        foreach (var c in r.Choices)
        {
            w.WriteStartObject();
            w.WriteNumber("index", c.Index);
            if (texts is null)
                w.WriteNull("text");
            else
                w.WriteString("text", texts[c.Index]);
            EvaluationJson.Ids(w, "tokens", c.Tokens);
            w.WriteNumber("sum", c.Sum);
            w.WriteNumber("mean", c.Mean);
            w.WriteNumber("token_count", c.TokenCount);
            EvaluationJson.Numbers(w, "token_logprobs", c.TokenLogProbs);
            w.WriteEndObject();
        }
        w.WriteEndArray();
    });
}
