namespace PeftNative.Evaluation;

/// <summary>The tokens <see cref="GreedyGenerator.Generate"/> produced after the prompt, and why it stopped.</summary>
/// <param name="PromptTokens">The prompt's tokens.</param>
/// <param name="Tokens">The new tokens (a stop token included).</param>
/// <param name="StopReason">Why generation ended.</param>
public sealed record GenerationResult(IReadOnlyList<int> PromptTokens, IReadOnlyList<int> Tokens, GenerationStopReason StopReason);
