namespace PeftNative.Adapters;

/// <summary>
/// PEFT's tensor naming in adapter_model.safetensors (src/peft/utils/save_and_load.py
/// get_peft_model_state_dict): the model's state-dict key, <c>base_model.model.</c> + module
/// path + a suffix, with the adapter name removed:
/// <c>.lora_A.weight</c>, <c>.lora_B.weight</c>, <c>.lora_B.bias</c>, <c>.lora_embedding_A</c>,
/// <c>.lora_embedding_B</c>, <c>.ia3_l</c>. Reading also accepts keys that still carry the
/// adapter name (<c>lora_A.default.weight</c>) or lack the <c>base_model.model.</c> prefix;
/// writing always produces PEFT's saved form.
/// </summary>
public static class AdapterTensorNames
{
    /// <summary>The prefix PEFT puts before every module path (PeftModel.base_model.model).</summary>
    public const string Prefix = "base_model.model.";

    /// <summary>Takes a tensor name apart. Never throws for a non-null name.</summary>
    public static AdapterTensorKey Parse(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        string key = name.StartsWith(Prefix, StringComparison.Ordinal) ? name[Prefix.Length..] : name;
        string[] c = key.Split('.');
        int n = c.Length;

        // <path>.lora_A.weight, <path>.lora_B.bias, or with the adapter name: <path>.lora_A.<adapter>.weight
        if (n >= 3 && LinearKind(c[n - 2], c[n - 1]) is { } k1 && Path(c, n - 2) is { } p1)
            return new AdapterTensorKey(name, p1, k1, null, null);
        if (n >= 4 && LinearKind(c[n - 3], c[n - 1]) is { } k2 && Path(c, n - 3) is { } p2)
            return new AdapterTensorKey(name, p2, k2, c[n - 2], null);

        // <path>.lora_embedding_A, <path>.ia3_l, optionally followed by the adapter name
        if (n >= 2 && VectorKind(c[n - 1]) is { } k3 && Path(c, n - 1) is { } p3)
            return new AdapterTensorKey(name, p3, k3, null, null);
        if (n >= 3 && VectorKind(c[n - 2]) is { } k4 && Path(c, n - 2) is { } p4)
            return new AdapterTensorKey(name, p4, k4, c[n - 1], null);
        // DoRA's in-memory form: lora_magnitude_vector.<adapter>.weight
        if (n >= 4 && c[n - 3] == "lora_magnitude_vector" && Path(c, n - 3) is { } p5)
            return new AdapterTensorKey(name, p5, AdapterTensorKind.DoraMagnitude, c[n - 2], null);

        int dot = key.LastIndexOf('.');
        return dot <= 0
            ? new AdapterTensorKey(name, "", AdapterTensorKind.Other, null, key)
            : new AdapterTensorKey(name, key[..dot], AdapterTensorKind.Other, null, key[(dot + 1)..]);
    }

    /// <summary>The name PEFT saves a module's tensor under, e.g. <c>base_model.model.transformer.h.0.attn.c_attn.lora_A.weight</c>.</summary>
    /// <exception cref="ArgumentException">An empty module path, or <see cref="AdapterTensorKind.Other"/> (those keep their own names).</exception>
    public static string Format(string modulePath, AdapterTensorKind kind)
    {
        ArgumentException.ThrowIfNullOrEmpty(modulePath);
        string suffix = kind switch
        {
            AdapterTensorKind.LoraA => ".lora_A.weight",
            AdapterTensorKind.LoraB => ".lora_B.weight",
            AdapterTensorKind.LoraBBias => ".lora_B.bias",
            AdapterTensorKind.LoraEmbeddingA => ".lora_embedding_A",
            AdapterTensorKind.LoraEmbeddingB => ".lora_embedding_B",
            AdapterTensorKind.Ia3Vector => ".ia3_l",
            AdapterTensorKind.DoraMagnitude => ".lora_magnitude_vector",
            _ => throw new ArgumentException($"tensors of kind {kind} keep the name they were saved under", nameof(kind)),
        };
        return Prefix + modulePath + suffix;
    }

    private static AdapterTensorKind? LinearKind(string part, string param) => (part, param) switch
    {
        ("lora_A", "weight") => AdapterTensorKind.LoraA,
        ("lora_B", "weight") => AdapterTensorKind.LoraB,
        ("lora_B", "bias") => AdapterTensorKind.LoraBBias,
        _ => null,
    };

    private static AdapterTensorKind? VectorKind(string part) => part switch
    {
        "lora_embedding_A" => AdapterTensorKind.LoraEmbeddingA,
        "lora_embedding_B" => AdapterTensorKind.LoraEmbeddingB,
        "ia3_l" => AdapterTensorKind.Ia3Vector,
        "lora_magnitude_vector" => AdapterTensorKind.DoraMagnitude,
        _ => null,
    };

    // The module path is the components before the suffix; it must not be empty.
    private static string? Path(string[] components, int count)
    {
        if (count <= 0)
            return null;
        string path = string.Join('.', components, 0, count);
        return path.Length == 0 ? null : path;
    }
}
