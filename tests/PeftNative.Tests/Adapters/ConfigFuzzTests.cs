using System.Text;
using System.Text.Json.Nodes;
using CsCheck;
using PeftNative.Adapters;
using PeftNative.Models;

namespace PeftNative.Tests.Adapters;

/// <summary>
/// AdapterConfig.Parse and ModelConfig.Parse on arbitrary text: they return or throw
/// <see cref="AdapterFormatException"/>, nothing else. Inputs: random strings, byte-level
/// mutations of real configs, and well-formed JSON with the known keys set to random values.
/// </summary>
[TestFixture]
public class ConfigFuzzTests
{
    private static readonly string[] Keys =
    [
        "peft_type", "r", "lora_alpha", "use_rslora", "target_modules", "exclude_modules", "fan_in_fan_out", "rank_pattern",
        "alpha_pattern", "modules_to_save", "feedforward_modules", "bias", "lora_bias", "layers_to_transform", "layers_pattern",
        "base_model_name_or_path", "task_type", "use_dora", "init_lora_weights", "lora_dropout", "inference_mode", "revision",
        "use_qalora", "layer_replication", "target_parameters", "trainable_token_indices", "init_ia3_weights",
        "model_type", "hidden_size", "n_embd", "num_hidden_layers", "torch_dtype", "tie_word_embeddings", "rope_theta",
        "rope_parameters", "vocab_size", "n_inner", "architectures",
    ];

    private static bool OnlyFormatErrors(string text)
    {
        try
        {
            _ = AdapterConfig.Parse(text, "fuzz");
        }
        catch (AdapterFormatException)
        {
        }
        try
        {
            _ = ModelConfig.Parse(text, "fuzz");
        }
        catch (AdapterFormatException)
        {
        }
        return true; // any other exception escapes and fails the property
    }

    [Test]
    public void RandomStrings() => Gen.String.Sample(OnlyFormatErrors, iter: 20_000);

    [Test]
    public void MutatedRealConfigs()
    {
        string[] seeds =
        [
            System.IO.File.ReadAllText(Path.Combine(Fixtures.RealAdapter("gpt2-tigrinya-lora"), AdapterConfig.FileName)),
            System.IO.File.ReadAllText(Fixtures.ReferenceModel("gpt2-tiny/adapters/lora_rslora_pattern/adapter_config.json")),
            System.IO.File.ReadAllText(Fixtures.ReferenceModel("llama-tiny/adapters/ia3/adapter_config.json")),
            System.IO.File.ReadAllText(Fixtures.ReferenceModel("llama-tiny/base/config.json")),
        ];
        const string alphabet = "{}[]\",:0123456789.eE-+truefalsnl \\/*()|?^$rq_";
        Gen.Select(Gen.Int[0, seeds.Length - 1], Gen.Int[1, 8].Array[Gen.Int[1, 6]], Gen.Int.Array[6], Gen.Char[alphabet].Array[6])
            .Sample((seed, ops, positions, chars) =>
            {
                var sb = new StringBuilder(seeds[seed]);
                for (int i = 0; i < ops.Length; i++)
                {
                    if (sb.Length == 0)
                        break;
                    int at = (int)((uint)positions[i % positions.Length] % (uint)sb.Length);
                    switch (ops[i] % 4)
                    {
                        case 0: sb.Remove(at, 1); break;
                        case 1: sb.Insert(at, chars[i % chars.Length]); break;
                        case 2: sb[at] = chars[i % chars.Length]; break;
                        default: sb.Length = at; break;
                    }
                }
                return OnlyFormatErrors(sb.ToString());
            }, iter: 20_000);
    }

    [Test]
    public void WellFormedJson_RandomValuesForKnownKeys()
    {
        var genValue = Gen.Recursive<JsonNode?>((depth, self) =>
        {
            var leaf = Gen.OneOf<JsonNode?>(
                Gen.Const<JsonNode?>((JsonNode?)null),
                Gen.Bool.Select(b => (JsonNode?)JsonValue.Create(b)),
                Gen.Int.Select(i => (JsonNode?)JsonValue.Create(i)),
                Gen.Double.Where(double.IsFinite).Select(d => (JsonNode?)JsonValue.Create(d)),
                Gen.OneOf<string>("LORA", "IA3", "ADALORA", "q_proj", ".*", "(", "all-linear", "none", "lora_only", "pissa", "")
                    .Select(s => (JsonNode?)JsonValue.Create(s)));
            if (depth >= 2)
                return leaf;
            return Gen.OneOf(leaf,
                self.Array[0, 3].Select(a => (JsonNode?)new JsonArray(a)),
                Gen.Select(Gen.OneOf<string>("q_proj", "c_fc", "(", "a|b", ""), self).Array[0, 3]
                    .Select(kvs =>
                    {
                        var o = new JsonObject();
                        foreach ((string k, JsonNode? v) in kvs)
                            o[k] = v;
                        return (JsonNode?)o;
                    }));
        });
        Gen.Select(Gen.Int[0, Keys.Length - 1], genValue).Array[1, 12]
            .Sample(fields =>
            {
                var o = new JsonObject { ["peft_type"] = "LORA", ["target_modules"] = new JsonArray("q_proj") };
                foreach (var (k, v) in fields)
                    o[Keys[k]] = v?.DeepClone();
                return OnlyFormatErrors(o.ToJsonString());
            }, iter: 20_000);
    }
}
