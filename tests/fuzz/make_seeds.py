#!/usr/bin/env python3
"""Writes the fuzz seed corpora (stdlib only; rerun after editing, then commit the output).

tests/fuzz/corpus/safetensors-header/: small safetensors files, valid ones of several dtypes and
shapes and the typical broken ones (truncated, bad lengths, bad JSON, overlapping or short data).
tests/fuzz/corpus/adapter-config/: real adapter_config.json files copied from shared/fixtures
(when that folder is present) and broken variants.
tests/fuzz/dict/<target>.dict: AFL dictionaries (JSON tokens, field names, enum values). The
BCL's JSON code is not instrumented, so AFL cannot learn these words from coverage alone.

Seeds stay small (well under 4 KB): AFL mutates small inputs much faster.
"""
import json
import pathlib
import shutil
import struct
import sys

HERE = pathlib.Path(__file__).resolve().parent
CORPUS = HERE / "corpus"
SHARED = HERE.parents[1] / "shared"        # a sibling checkout's shared/ ...
if not SHARED.is_dir():
    SHARED = pathlib.Path("/work/shared")   # ... or the workplace's copy

BYTES_PER_ELEMENT = {"F64": 8, "I64": 8, "U64": 8, "C64": 8, "F32": 4, "I32": 4, "U32": 4,
                     "F16": 2, "BF16": 2, "I16": 2, "U16": 2, "F8_E4M3": 1, "F8_E5M2": 1,
                     "I8": 1, "U8": 1, "BOOL": 1}
BITS_SUB_BYTE = {"F4": 4, "F6_E2M3": 6, "F6_E3M2": 6}


def nbytes(dtype, shape):
    n = 1
    for d in shape:
        n *= d
    if dtype in BITS_SUB_BYTE:
        return n * BITS_SUB_BYTE[dtype] // 8
    return n * BYTES_PER_ELEMENT[dtype]


def safetensors(tensors, metadata=None, pad=True):
    """A valid file: tensors is [(name, dtype, shape)], laid out in order, data = 0x11, 0x22, ..."""
    header, data, offset = {}, bytearray(), 0
    if metadata is not None:
        header["__metadata__"] = metadata
    for i, (name, dtype, shape) in enumerate(tensors):
        size = nbytes(dtype, shape)
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [offset, offset + size]}
        data += bytes([(0x11 * (i + 1)) & 0xFF]) * size
        offset += size
    return raw(json.dumps(header, separators=(",", ":")).encode(), bytes(data), pad)


def raw(header_bytes, data=b"", pad=True, length=None):
    """Prefix + header (+ spaces to 8-byte alignment, as the reference writer does) + data."""
    if pad:
        header_bytes += b" " * (-len(header_bytes) % 8)
    n = len(header_bytes) if length is None else length
    return struct.pack("<Q", n) + header_bytes + data


def entry_file(entries, data_len):
    """A file from hand-written header entries (for broken offsets/shapes), data of data_len bytes."""
    return raw(json.dumps(entries, separators=(",", ":")).encode(), b"\x5a" * data_len)


def safetensors_seeds():
    f32_2x3 = safetensors([("w", "F32", [2, 3])])
    return {
        # valid
        "valid-empty": safetensors([]),
        "valid-f32-scalar": safetensors([("s", "F32", [])]),
        "valid-f32-2x3": f32_2x3,
        "valid-f16-bf16": safetensors([("a.weight", "F16", [4, 2]), ("b.weight", "BF16", [2, 4])]),
        "valid-ints-bool": safetensors([("i64", "I64", [2]), ("u8", "U8", [3]), ("mask", "BOOL", [5]),
                                        ("i16", "I16", [1, 1])]),
        "valid-metadata": safetensors([("lora_A.weight", "F32", [2, 4]), ("lora_B.weight", "F32", [4, 2])],
                                      metadata={"format": "pt", "note": "\u00e9\u4e2d"}),
        "valid-zero-size": safetensors([("empty", "F32", [0, 4]), ("one", "F64", [1])]),
        "valid-f8-f64": safetensors([("e4m3", "F8_E4M3", [4]), ("e5m2", "F8_E5M2", [4]), ("d", "F64", [2])]),
        "valid-sub-byte": safetensors([("f4", "F4", [2, 4]), ("f6", "F6_E2M3", [4]), ("f6b", "F6_E3M2", [8])]),
        "valid-c64-u64": safetensors([("c", "C64", [2]), ("u", "U64", [1])]),
        "valid-unpadded": safetensors([("w", "F32", [1])], pad=False),
        "valid-name-order-differs": entry_file({"z": {"dtype": "U8", "shape": [2], "data_offsets": [0, 2]},
                                                "a": {"dtype": "U8", "shape": [3], "data_offsets": [2, 5]}}, 5),
        # broken
        "broken-short-prefix": b"\x10\x00\x00",
        "broken-header-past-end": raw(b'{"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}', length=4096),
        "broken-header-len-huge": raw(b"{}      ", length=0xFFFFFFFFFFFFFFFF),
        "broken-header-len-zero": raw(b"", length=0),
        "broken-not-json": raw(b"{\"w\":{\"dtype\":\"F32\",", pad=False),
        "broken-not-object": raw(b"[1,2,3]", b""),
        "broken-overlap": entry_file({"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]},
                                      "b": {"dtype": "F32", "shape": [2], "data_offsets": [4, 12]}}, 12),
        "broken-size-mismatch": entry_file({"w": {"dtype": "F32", "shape": [2, 3], "data_offsets": [0, 20]}}, 20),
        "broken-data-past-end": entry_file({"w": {"dtype": "F16", "shape": [8], "data_offsets": [0, 16]}}, 6),
        "broken-hole": entry_file({"w": {"dtype": "U8", "shape": [2], "data_offsets": [4, 6]}}, 6),
        "broken-unknown-dtype": entry_file({"w": {"dtype": "F128", "shape": [1], "data_offsets": [0, 16]}}, 16),
        "broken-lowercase-dtype": entry_file({"w": {"dtype": "f32", "shape": [1], "data_offsets": [0, 4]}}, 4),
        "broken-negative-dim": entry_file({"w": {"dtype": "U8", "shape": [-1, 2], "data_offsets": [0, 0]}}, 0),
        "broken-shape-overflow": entry_file({"w": {"dtype": "F32", "shape": [4294967296, 4294967296, 16],
                                                   "data_offsets": [0, 0]}}, 0),
        "broken-sub-byte-odd": entry_file({"w": {"dtype": "F4", "shape": [3], "data_offsets": [0, 2]}}, 2),
        "broken-offsets-reversed": entry_file({"w": {"dtype": "U8", "shape": [0], "data_offsets": [4, 0]}}, 4),
        "broken-metadata-not-string": entry_file({"__metadata__": {"n": 1}}, 0),
        "broken-missing-field": entry_file({"w": {"dtype": "U8", "data_offsets": [0, 1]}}, 1),
        "broken-duplicate-name": raw(b'{"w":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},'
                                     b'"w":{"dtype":"U8","shape":[1],"data_offsets":[1,2]}}', b"\x01\x02"),
        "broken-bad-utf8": raw(b'{"\xff\xfe":{"dtype":"U8","shape":[1],"data_offsets":[0,1]}}', b"\x00"),
        "broken-truncated-data": f32_2x3[:-5],
    }


BROKEN_CONFIGS = {
    "broken-empty": b"",
    "broken-empty-object": b"{}",
    "broken-array": b"[]",
    "broken-null": b"null",
    "broken-truncated": b'{"peft_type": "LORA", "r": 8, "lora_alpha": 16, "target_modules": ["q_pr',
    "broken-r-negative": b'{"peft_type":"LORA","r":-4,"lora_alpha":8,"target_modules":["q_proj"]}',
    "broken-r-zero": b'{"peft_type":"LORA","r":0,"lora_alpha":8,"target_modules":["q_proj"]}',
    "broken-r-string": b'{"peft_type":"LORA","r":"8","lora_alpha":8,"target_modules":["q_proj"]}',
    "broken-r-float": b'{"peft_type":"LORA","r":8.5,"lora_alpha":8,"target_modules":["q_proj"]}',
    "broken-r-huge": b'{"peft_type":"LORA","r":99999999999999999999,"lora_alpha":1e309,"target_modules":"all-linear"}',
    "broken-peft-type-unknown": b'{"peft_type":"NOT_A_METHOD","r":8,"target_modules":["q_proj"]}',
    "broken-peft-type-missing": b'{"r":8,"lora_alpha":16,"target_modules":["q_proj"]}',
    "broken-target-modules-int": b'{"peft_type":"LORA","r":8,"lora_alpha":16,"target_modules":7}',
    "broken-rank-pattern-list": b'{"peft_type":"LORA","r":8,"lora_alpha":16,"target_modules":["q_proj"],'
                                b'"rank_pattern":[1,2],"alpha_pattern":{"q_proj":"x"}}',
    "broken-ia3-ff-not-subset": b'{"peft_type":"IA3","target_modules":["k_proj"],"feedforward_modules":["down_proj"]}',
    "broken-bad-utf8": b'{"peft_type":"LORA","r":8,"target_modules":["\xc3\x28"]}',
    "broken-trailing": b'{"peft_type":"LORA","r":8,"lora_alpha":16,"target_modules":["q_proj"]} {"x":1}',
    "broken-comments": b'{/* c */"peft_type":"LORA","r":8,"lora_alpha":16,"target_modules":["q_proj"],}',
    "broken-duplicate-key": b'{"peft_type":"LORA","r":8,"r":16,"lora_alpha":16,"target_modules":["q_proj"]}',
    "broken-nested-deep": b'{"peft_type":"LORA","r":8,"loftq_config":' + b"[" * 200 + b"]" * 200 + b"}",
}


def adapter_config_seeds():
    seeds, seen = {}, set()
    sources = sorted(SHARED.glob("fixtures/real-adapters/*/adapter_config.json")) + \
        sorted(SHARED.glob("fixtures/reference-models/*/adapters/*/adapter_config.json"))
    for src in sources:
        data = src.read_bytes()
        if data in seen:                    # several fixtures share one config
            continue
        seen.add(data)
        parts = src.parts                   # .../<model>/adapters/<name>/ or .../real-adapters/<name>/
        prefix = f"ref-{parts[-4]}" if parts[-3] == "adapters" else "real"
        seeds[f"{prefix}-{src.parent.name}"] = data
    if not seeds:
        print(f"make_seeds: no fixtures under {SHARED}; writing broken variants only", file=sys.stderr)
    # A minimal valid LoRA config, as small as AFL likes them.
    seeds["valid-minimal-lora"] = b'{"peft_type":"LORA","r":4,"lora_alpha":8,"target_modules":["q_proj","v_proj"]}'
    seeds.update(BROKEN_CONFIGS)
    # Regressions: inputs that once broke a target (keep them replaying in CI).
    seeds["regress-inf"] = b'{"peft_type":"LORA","r":8,"target_modules":["q_proj"],"x":1e309}'
    return seeds


def write(folder, seeds, suffix):
    folder = CORPUS / folder
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    for name, data in seeds.items():
        assert len(data) < 4096, f"{name}: {len(data)} bytes (seeds stay under 4 KB)"
        (folder / (name + suffix)).write_bytes(data)
    print(f"make_seeds: {len(seeds)} seeds in {folder.relative_to(HERE.parents[1])}")


JSON_TOKENS = ["{", "}", "[", "]", ":", ",", '"', "null", "true", "false", "-0", "0", "1", "-1", "1e308",
               "1e309", "0.5", "18446744073709551615", "18446744073709551616", "9223372036854775807",
               "-9223372036854775808", "2147483648", "\\u0000", "\\ud800", "\\\"", "\ufeff"]
SAFETENSORS_WORDS = ["dtype", "shape", "data_offsets", "__metadata__", "format", "pt"] + \
    list(BYTES_PER_ELEMENT) + list(BITS_SUB_BYTE) + ["F8_E8M0", "F8_E4M3FNUZ", "F8_E5M2FNUZ", "F128", "bool"]
ADAPTER_WORDS = ["peft_type", "task_type", "r", "lora_alpha", "target_modules", "exclude_modules",
                 "modules_to_save", "rank_pattern", "alpha_pattern", "use_rslora", "use_dora", "use_qalora",
                 "feedforward_modules", "fan_in_fan_out", "layers_to_transform", "layers_pattern",
                 "layer_replication", "bias", "lora_bias", "init_lora_weights", "init_ia3_weights",
                 "lora_dropout", "inference_mode", "base_model_name_or_path", "revision", "target_parameters",
                 "trainable_token_indices", "LORA", "IA3", "LOHA", "ADALORA", "CAUSAL_LM", "all-linear",
                 "none", "all", "lora_only", "gaussian", "pissa", "olora", "loftq", "q_proj", "v_proj",
                 "c_attn", "mlp.c_proj", "model.layers.0.self_attn.q_proj", ".*\\.q_proj", "(a|b)*c", "[", "\\"]


def afl_dict(tokens, words):
    """AFL -x format: one quoted entry a line; words go in both bare and JSON-quoted forms."""
    def q(text):                        # exact UTF-8 bytes; '"', '\\' and non-ASCII as \xNN
        body = "".join(chr(b) if 0x20 <= b < 0x7F and b not in b'"\\' else f"\\x{b:02x}"
                       for b in text.encode())
        return '"' + body + '"'
    lines = [q(t) for t in tokens] + [q(w) for w in words] + [q('"' + w + '"') for w in words]
    return ("\n".join(dict.fromkeys(lines)) + "\n").encode()


def write_dict(target, data):
    path = HERE / "dict" / (target + ".dict")
    path.parent.mkdir(exist_ok=True)
    path.write_bytes(data)
    print(f"make_seeds: dictionary {path.relative_to(HERE.parents[1])}")


if __name__ == "__main__":
    write("safetensors-header", safetensors_seeds(), ".safetensors")
    write("adapter-config", adapter_config_seeds(), ".json")
    write_dict("safetensors-header", afl_dict(JSON_TOKENS, SAFETENSORS_WORDS))
    write_dict("adapter-config", afl_dict(JSON_TOKENS, ADAPTER_WORDS))
