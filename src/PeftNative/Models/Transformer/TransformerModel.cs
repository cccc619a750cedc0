using PeftNative.Adapters;
using PeftNative.Backends;

namespace PeftNative.Models.Transformer;

/// <summary>Loads decoder-only models from Hugging Face directories.</summary>
public static class TransformerModel
{
    /// <summary>Model types <see cref="Load"/> accepts.</summary>
    public static IReadOnlyList<string> SupportedModelTypes { get; } = ["gpt2", "llama", "mistral", "qwen2"];

    /// <summary>
    /// Loads the model in <paramref name="directory"/> (config.json + safetensors, f32/bf16/f16
    /// weights, computed in f32) with the adapters of <paramref name="options"/> applied.
    /// </summary>
    /// <remarks>
    /// Weights stay zero-copy views of the mapped checkpoint (16-bit weights are widened inside the
    /// matrix product); only the weights a merged adapter touches get a private f32 copy. Per module,
    /// LoRA updates apply before (IA)^3 scalings, both merged and at run time, so the two routes give
    /// the same logits. Embedding LoRA is applied to the input lookup at run time; merged into a tied
    /// GPT-2 embedding it also changes the output head, as merging does in PEFT.
    /// Not supported (clear error): rope_scaling, partial rotary, activations other than
    /// tanh-GELU (GPT-2) and SiLU (LLaMA family), adapters carrying modules_to_save or trained biases.
    /// </remarks>
    /// <exception cref="FileFormatException">Unknown model type, missing or misshapen tensors (the message names the file and tensor),
    /// an unsupported config setting, or an adapter module the model does not have or whose shape disagrees (<see cref="AdapterFormatException"/>).</exception>
    /// <exception cref="DirectoryNotFoundException">No such directory.</exception>
    /// <exception cref="ArgumentException">A non-finite adapter weight.</exception>
    /// <exception cref="ObjectDisposedException">An adapter was disposed.</exception>
    public static ICausalLanguageModel Load(string directory, TransformerLoadOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(directory);
        options ??= new TransformerLoadOptions();
        var dir = HuggingFaceModelDirectory.Open(directory);
        IMatMul? matMul = null;
        DecoderModel? model = null;
        try
        {
            var spec = ArchitectureSpec.From(dir.Config);
            matMul = MatMulFactory.Create(options.MatMul, options.Threads, options.Diagnostics);
            model = DecoderModel.Build(spec, dir, matMul);
            if (options.MergedAdapters.Count > 0)
            {
                using var backend = KernelBackendFactory.Create(options.MatMul, options.Threads, options.Diagnostics);
                AdapterBinder.Merge(model, options.MergedAdapters, backend);
            }
            AdapterBinder.AttachRuntime(model, options.RuntimeAdapters);
            return model;
        }
        catch
        {
            if (model is not null)
            {
                model.Dispose();
            }
            else
            {
                matMul?.Dispose();
                dir.Dispose();
            }
            throw;
        }
    }
}
