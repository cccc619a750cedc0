using PeftNative.Adapters;
using PeftNative.Composition;
using PeftNative.Models.Transformer;

namespace PeftNative.Cli.Commands;

/// <summary>A loaded model and the adapters it uses (which must outlive it); disposing releases all.</summary>
internal sealed class LoadedModel(string directory, ICausalLanguageModel model, Dictionary<string, PeftAdapter> adapters, CompositionResult? composed) : IDisposable
{
    public string Directory { get; } = directory;

    public ICausalLanguageModel Model { get; } = model;

    public void Dispose()
    {
        Model.Dispose();
        composed?.Dispose();
        AdapterArguments.DisposeAll(adapters);
    }
}
