namespace PeftNative.Models.Tokenization;

/// <summary>The tokenizer algorithms <see cref="TextTokenizer"/> builds.</summary>
public enum TokenizerKind
{
    /// <summary>Byte-level BPE as GPT-2 (and Qwen2, LLaMA 3) use it: vocab.json + merges.txt, or a byte-level BPE tokenizer.json.</summary>
    ByteLevelBpe,

    /// <summary>A SentencePiece model (tokenizer.model), BPE or unigram, as LLaMA 1/2 and Mistral use it.</summary>
    SentencePiece,
}
