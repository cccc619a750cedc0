namespace PeftNative.Adapters;

/// <summary>Why a tensor that is neither LoRA nor (IA)^3 is in an adapter file.</summary>
public enum AdapterExtraTensorKind
{
    /// <summary>A full copy of a module listed in <c>modules_to_save</c> (e.g. a classifier head); replaces the base tensor.</summary>
    ModulesToSave,

    /// <summary>A base-model bias trained with <c>bias="all"</c> or <c>"lora_only"</c>; replaces the base bias.</summary>
    Bias,

    /// <summary>An embedding or output layer PEFT saved whole (save_embedding_layers, e.g. after resizing the vocabulary); replaces the base tensor.</summary>
    EmbeddingLayer,
}
