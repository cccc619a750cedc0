using System.CommandLine;
using System.Text.Json.Nodes;
using PeftNative.Evaluation;
using PeftNative.Models;
using PeftNative.Models.Tokenization;

namespace PeftNative.Cli.Commands;

/// <summary>
/// <c>peftnative generate --model DIR [adapters] (--prompt P | --prompt-tokens IDS) [--max-new-tokens N] [--ignore-eos] [--json]</c>:
/// greedy decoding with a KV cache (<see cref="GreedyGenerator"/>), stopping at N new tokens, at the
/// model's end-of-sequence token (config.json eos_token_id, else the tokenizer's), or when the
/// model's maximum length is reached. Prints the prompt and its continuation as text when the model
/// has a tokenizer, else the new token ids. Exit codes: 0; 2 for a missing or broken input or bad usage.
/// </summary>
public static class GenerateCommand
{
    private const string UsageLine = "usage: peftnative generate " + ModelArguments.UsagePart + " (--prompt P | --prompt-tokens 1,2) [--max-new-tokens N] [--ignore-eos] [--json]";

    /// <summary>Creates the <c>generate</c> subcommand.</summary>
    public static Command Create()
    {
        var model = new ModelArguments();
        var prompt = new PromptArguments();
        var maxNew = new Option<int>("--max-new-tokens") { Description = "Most tokens to generate (default 32).", HelpName = "N", DefaultValueFactory = _ => 32 };
        var ignoreEos = new Option<bool>("--ignore-eos") { Description = "Do not stop at the end-of-sequence token." };
        var json = new Option<bool>("--json") { Description = "Print one JSON object: prompt_tokens, tokens (new), text (the new tokens as text without special tokens, null without a tokenizer), stop_reason." };
        var command = new Command("generate",
            "Greedy generation with a KV cache: each new token is the most likely one. Stops at --max-new-tokens, at the end-of-sequence token, or at " +
            "the model's maximum length. Exit code 0; 2 for a missing or broken input or bad usage.");
        model.AddTo(command);
        prompt.AddTo(command);
        foreach (Option o in (Option[])[maxNew, ignoreEos, json])
            command.Options.Add(o);
        command.Action = new GenerateAction(model, prompt, maxNew, ignoreEos, json);
        return command;
    }

    private sealed class GenerateAction(ModelArguments modelArgs, PromptArguments prompt, Option<int> maxNew,
        Option<bool> ignoreEos, Option<bool> json) : ModelCommandAction("generate", UsageLine, modelArgs)
    {
        protected override int Run(ParseResult parse, ModelRequest request)
        {
            if (!prompt.TryParse(parse, Usage, out string? promptText, out int[]? ids, out string? promptError))
                return Fail(ExitCodes.Usage, promptError!);
            int maxNewTokens = parse.GetValue(maxNew);
            if (maxNewTokens < 0)
                return Fail(ExitCodes.Usage, $"--max-new-tokens needs a whole number >= 0, got {maxNewTokens}");

            // With token ids the tokenizer is optional: it only turns the output into text.
            TextTokenizer? tokenizer = null;
            if (promptText is not null || TokenizerFiles.Find(request.ModelDirectory).HasTokenizer)
            {
                tokenizer = TokenizerArguments.TryLoad(request.ModelDirectory, out string? tokenizerError);
                if (tokenizer is null && promptText is not null)
                    return Fail(ExitCodes.InputError, "--prompt needs the model's tokenizer: " + tokenizerError);
                if (tokenizer is null)
                    CommandConsole.Warn("output as token ids: " + tokenizerError);
            }
            ids ??= tokenizer!.Encode(promptText!);
            if (ids.Length == 0)
                return Fail(ExitCodes.InputError, "the prompt has no tokens");

            using var loaded = Load(request, out int loadFailure);
            if (loaded is null)
                return loadFailure;
            var stops = parse.GetValue(ignoreEos) ? [] : StopTokens(request.ModelDirectory, tokenizer);
            GenerationResult result;
            try
            {
                result = GreedyGenerator.Generate(loaded.Model, ids, maxNewTokens, stops);
            }
            catch (Exception e) when (e is ArgumentException or InvalidDataException)
            {
                return Fail(ExitCodes.InputError, AdapterArguments.OneLine(e.Message));
            }
            string? newText = tokenizer?.Decode(result.Tokens, skipSpecialTokens: true);
            if (parse.GetValue(json))
            {
                Console.Out.WriteLine(EvaluationJson.Object(w =>
                {
                    EvaluationJson.Ids(w, "prompt_tokens", result.PromptTokens);
                    EvaluationJson.Ids(w, "tokens", result.Tokens);
                    if (newText is null)
                        w.WriteNull("text");
                    else
                        w.WriteString("text", newText);
                    w.WriteString("stop_reason", StopReasonName(result.StopReason));
                }));
            }
            else
            {
                Console.Out.WriteLine(tokenizer is null ? string.Join(",", result.Tokens) : tokenizer.Decode(result.PromptTokens, skipSpecialTokens: true) + newText);
            }
            return 0;
        }
    }

    private static string StopReasonName(GenerationStopReason reason) => reason switch
    {
        GenerationStopReason.StopToken => "eos",
        GenerationStopReason.ContextFull => "context_full",
        _ => "max_new_tokens",
    };

    /// <summary>config.json's eos_token_id (a number or a list), else the tokenizer's EOS.</summary>
    private static List<int> StopTokens(string modelDirectory, TextTokenizer? tokenizer)
    {
        var stops = new List<int>();
        try
        {
            var node = ModelConfig.Load(Path.Combine(modelDirectory, ModelConfig.FileName)).GetRaw("eos_token_id");
            foreach (var item in node is JsonArray list ? list : (IEnumerable<JsonNode?>)[node])
            {
                if (item is JsonValue v && v.TryGetValue(out int id))
                    stops.Add(id);
            }
        }
        catch (FileFormatException)
        {
            // the model loaded, so config.json is readable; a malformed key just means no stop token from it
        }
        if (stops.Count == 0 && tokenizer?.EosTokenId is { } eos)
            stops.Add(eos);
        return stops;
    }
}
