namespace PeftNative.Evaluation;

/// <summary>Why <see cref="GreedyGenerator.Generate"/> stopped.</summary>
public enum GenerationStopReason
{
    /// <summary>It produced the number of tokens asked for.</summary>
    MaxNewTokens,

    /// <summary>It produced a stop token (end of sequence); that token is the last one returned.</summary>
    StopToken,

    /// <summary>The sequence reached the model's maximum length.</summary>
    ContextFull,
}
