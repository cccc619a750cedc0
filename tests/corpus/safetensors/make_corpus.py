#!/usr/bin/env python3
"""Generates the safetensors reader corpus (standard library only; deterministic).

    python3 tests/corpus/safetensors/make_corpus.py

valid/   small valid files for every dtype, scalars, empty tensors, metadata, odd names and
         padding, and a sharded checkpoint; valid/EXPECTED.json lists each file's metadata and
         tensors (dtype, shape, data as hex) so tests read them back byte for byte.
broken/  one defect per file (or per folder, for sharded checkpoints); broken/EXPECTED.tsv
         lists `name<TAB>message fragment`: the reader must refuse each with a
         SafetensorsFormatException whose message holds the fragment and the file's path.

Both folders are rewritten from scratch; commit the outputs with this script.
"""

import json
import os
import random
import shutil
import struct

HERE = os.path.dirname(os.path.abspath(__file__))
VALID = os.path.join(HERE, "valid")
BROKEN = os.path.join(HERE, "broken")
rng = random.Random(20240611)

BITS = {
    "F64": 64, "F32": 32, "F16": 16, "BF16": 16, "F8_E4M3": 8, "F8_E5M2": 8, "F8_E8M0": 8,
    "F8_E4M3FNUZ": 8, "F8_E5M2FNUZ": 8, "I64": 64, "I32": 32, "I16": 16, "I8": 8, "U64": 64,
    "U32": 32, "U16": 16, "U8": 8, "BOOL": 8, "C64": 64, "F4": 4, "F6_E2M3": 6, "F6_E3M2": 6,
}


def nonzero(n):
    """Random bytes with no zero byte, so a reader that returns zeros cannot pass."""
    return bytes(rng.randrange(1, 256) for _ in range(n))


def nbytes(dtype, shape):
    count = 1
    for d in shape:
        count *= d
    assert count * BITS[dtype] % 8 == 0
    return count * BITS[dtype] // 8


def dumps(obj, ascii_only=False):
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=ascii_only).encode("utf-8")


def pad(header, to=8, fill=b" "):
    """Pads like the reference writer: spaces up to a multiple of 8."""
    while len(header) % to:
        header += fill
    return header


def container(header, data=b"", declared=None):
    """8-byte little-endian header length, header, data."""
    n = len(header) if declared is None else declared
    return struct.pack("<Q", n) + header + data


def layout(tensors, metadata=None):
    """tensors: list of (name, dtype, shape, data) in data order -> (header dict, data bytes)."""
    header = {}
    if metadata is not None:
        header["__metadata__"] = metadata
    data = b""
    for name, dtype, shape, blob in tensors:
        assert len(blob) == nbytes(dtype, shape), name
        header[name] = {"dtype": dtype, "shape": list(shape), "data_offsets": [len(data), len(data) + len(blob)]}
        data += blob
    return header, data


def tensor(name, dtype, shape, blob=None):
    return (name, dtype, shape, nonzero(nbytes(dtype, shape)) if blob is None else blob)


def write(path, content):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(content)


# ---------------------------------------------------------------------------------- valid

def valid_corpus():
    expected = {}

    def record(key, tensors, metadata, files=None):
        expected[key] = {
            "metadata": metadata or {},
            "tensors": {
                name: {"dtype": dt, "shape": list(shape), "hex": blob.hex(),
                       **({"file": files[name]} if files else {})}
                for name, dt, shape, blob in tensors
            },
        }

    def single(name, tensors, metadata=None, header_bytes=None, reorder=False):
        header, data = layout(tensors, metadata)
        if reorder:  # JSON key order unlike data order: the reader must sort by offsets
            header = dict(reversed(list(header.items())))
        raw = pad(dumps(header)) if header_bytes is None else header_bytes(header)
        write(os.path.join(VALID, name), container(raw, data))
        record(name, tensors, metadata)

    shapes = {
        "F64": [2, 3], "F32": [3, 2], "F16": [5], "BF16": [2, 2], "F8_E4M3": [7], "F8_E5M2": [3],
        "F8_E8M0": [2], "F8_E4M3FNUZ": [4], "F8_E5M2FNUZ": [1, 4], "I64": [2], "I32": [3],
        "I16": [4], "I8": [5], "U64": [1], "U32": [2], "U16": [3], "U8": [9], "C64": [2],
        "F4": [2, 3], "F6_E2M3": [4], "F6_E3M2": [2, 4],
    }
    dtype_tensors = [tensor("t_" + dt.lower(), dt, shape) for dt, shape in shapes.items()]
    dtype_tensors.append(tensor("t_bool", "BOOL", [6], bytes([1, 0, 1, 1, 0, 1])))
    single("all_dtypes.safetensors", dtype_tensors, {"format": "pt"}, reorder=True)

    single("scalars.safetensors", [tensor("s_f32", "F32", []), tensor("s_i64", "I64", []),
                                   tensor("s_bool", "BOOL", [], b"\x01")])

    single("zero_size.safetensors", [
        tensor("empty_first", "F32", [0]),
        tensor("u8", "U8", [4]),
        tensor("empty_middle", "BF16", [3, 0]),
        tensor("f16", "F16", [2, 1]),
        tensor("empty_f4", "F4", [0, 7]),
        tensor("empty_last", "I64", [5, 0, 2]),
    ])

    single("metadata_only.safetensors", [], {"format": "pt", "note": "ünïcode ✓ \"quoted\"", "empty": ""})
    single("empty_object.safetensors", [], None, header_bytes=lambda h: pad(b"{}"))

    names = [tensor("model.layers.0.self_attn.q_proj.weight", "F32", [2]),
             tensor("ünï/cødé ✓", "F16", [3]),
             tensor('quote"back\\slash', "U8", [2]),
             tensor("tab\tnewline\n", "I16", [1]),
             tensor("emoji 🙂", "BF16", [2])]
    single("names_ascii_escaped.safetensors", names, {"k\u00e9y": "v\u00e1lue"},
           header_bytes=lambda h: pad(dumps(h, ascii_only=True)))

    # Any JSON whitespace may pad the header; the reference accepts it (serde_json does).
    single("padding_mixed_whitespace.safetensors", [tensor("w", "F32", [2, 2])],
           header_bytes=lambda h: dumps(h) + b" \n\t\r  \n" + b" " * 9)
    single("unpadded_unaligned.safetensors", [tensor("odd", "U8", [3]), tensor("f32", "F32", [3])],
           header_bytes=lambda h: dumps(h) + b" ")
    single("pretty_printed.safetensors", [tensor("a", "F64", [1, 2]), tensor("b", "I8", [3])],
           {"format": "np"}, header_bytes=lambda h: pad(json.dumps(h, indent=2).encode()))

    # A sharded checkpoint in Hugging Face layout.
    shard_tensors = [
        [tensor("embed.weight", "F32", [4, 3]), tensor("layers.0.weight", "BF16", [3, 3])],
        [tensor("layers.1.weight", "BF16", [3, 3]), tensor("layers.1.bias", "F16", [3])],
        [tensor("head.weight", "F32", [2, 3])],
    ]
    weight_map, files, all_tensors = {}, {}, []
    for i, ts in enumerate(shard_tensors):
        shard = f"model-{i + 1:05d}-of-{len(shard_tensors):05d}.safetensors"
        header, data = layout(ts, {"format": "pt"})
        write(os.path.join(VALID, "sharded", shard), container(pad(dumps(header)), data))
        for name, *_ in ts:
            weight_map[name] = shard
            files[name] = shard
        all_tensors += ts
    total = sum(len(t[3]) for t in all_tensors)
    write(os.path.join(VALID, "sharded", "model.safetensors.index.json"),
          json.dumps({"metadata": {"total_size": total}, "weight_map": dict(sorted(weight_map.items()))}, indent=2).encode())
    record("sharded", all_tensors, {"format": "pt"}, files)

    write(os.path.join(VALID, "EXPECTED.json"), json.dumps(expected, indent=1, ensure_ascii=False).encode())


# --------------------------------------------------------------------------------- broken

F32_2x2 = {"dtype": "F32", "shape": [2, 2], "data_offsets": [0, 16]}


def entry(dtype="F32", shape=(2, 2), offsets=(0, 16)):
    return {"dtype": dtype, "shape": list(shape), "data_offsets": list(offsets)}


def broken_corpus():
    cases = []  # (name, bytes or None for folders, fragment)

    def case(name, content, fragment):
        cases.append((name, content, fragment))

    def header_case(name, header, fragment, data=None, raw=False):
        """A file whose header is `header` (dict, or bytes when raw) with `data` (default 16 bytes)."""
        hb = pad(header if raw else dumps(header))
        case(name, container(hb, nonzero(16) if data is None else data), fragment)

    ok = pad(dumps({"a": F32_2x2}))
    d16 = nonzero(16)

    # the 8-byte prefix
    case("empty_file.safetensors", b"", "file is 0 bytes, shorter than the 8-byte header length prefix")
    case("seven_bytes.safetensors", b"\x02\x00\x00\x00\x00\x00\x00", "file is 7 bytes, shorter than the 8-byte header length prefix")
    case("header_length_zero.safetensors", container(ok, d16, declared=0), "header length is 0")
    case("header_length_over_limit.safetensors", container(ok, d16, declared=100_000_001), "header length 100000001 exceeds the limit of 100000000 bytes")
    case("header_length_u64_max.safetensors", container(ok, d16, declared=2**64 - 1), "header length 18446744073709551615 exceeds the limit")
    case("header_length_past_end.safetensors", container(ok, d16, declared=4096), "header length 4096 runs past the end of the file")
    case("header_length_one_past_end.safetensors", container(ok, b"", declared=len(ok) + 1), "runs past the end of the file")

    # encoding and the leading '{'
    case("header_leading_space.safetensors", container(pad(b" " + dumps({"a": F32_2x2})), d16), "header does not start with '{' (first byte 0x20)")
    case("header_utf8_bom.safetensors", container(pad(b"\xef\xbb\xbf" + dumps({"a": F32_2x2})), d16), "header does not start with '{' (first byte 0xEF)")
    header_case("header_is_array.safetensors", b"[]", "header does not start with '{' (first byte 0x5B)", data=b"", raw=True)
    header_case("header_is_null.safetensors", b"null", "header does not start with '{' (first byte 0x6E)", data=b"", raw=True)
    header_case("utf8_invalid_byte.safetensors", b'{"a\xff":' + dumps(F32_2x2) + b"}", "header is not valid UTF-8 (at header byte 3)", raw=True)
    header_case("utf8_overlong.safetensors", b'{"\xc0\xaf":' + dumps(F32_2x2) + b"}", "header is not valid UTF-8 (at header byte 2)", raw=True)
    header_case("utf8_encoded_surrogate.safetensors", b'{"\xed\xa0\x80":' + dumps(F32_2x2) + b"}", "header is not valid UTF-8", raw=True)
    header_case("utf8_truncated_sequence.safetensors", b'{"__metadata__":{"k":"\xe2\x82"},"a":' + dumps(F32_2x2) + b"}", "header is not valid UTF-8 (at header byte 22)", raw=True)

    # JSON syntax
    good = dumps({"a": F32_2x2})
    header_case("json_truncated.safetensors", good[:-3], "header is not valid JSON", raw=True)
    header_case("json_trailing_comma.safetensors", good[:-1] + b",}", "header is not valid JSON", raw=True)
    header_case("json_comment.safetensors", b"{/* weights */" + good[1:], "header is not valid JSON", raw=True)
    header_case("json_single_quotes.safetensors", good.replace(b'"', b"'"), "header is not valid JSON", raw=True)
    header_case("json_trailing_garbage.safetensors", good + b" x", "header is not valid JSON", raw=True)
    case("json_nul_padding.safetensors", container(pad(good, fill=b"\x00") + b"\x00" * 8, d16), "header is not valid JSON")
    header_case("json_two_objects.safetensors", good + b"{}", "header is not valid JSON", raw=True)
    header_case("json_nan_dimension.safetensors", b'{"a":{"dtype":"F32","shape":[2,NaN],"data_offsets":[0,16]}}', "header is not valid JSON", raw=True)
    header_case("json_raw_newline_in_name.safetensors", b'{"a\nb":' + dumps(F32_2x2) + b"}", "header is not valid JSON", raw=True)
    header_case("json_unquoted_key.safetensors", b"{a:" + dumps(F32_2x2) + b"}", "header is not valid JSON", raw=True)
    header_case("json_leading_zero.safetensors", b'{"a":{"dtype":"F32","shape":[02,2],"data_offsets":[0,16]}}', "header is not valid JSON", raw=True)
    header_case("json_unpaired_surrogate.safetensors", b'{"\\ud800x":' + dumps(F32_2x2) + b"}", "has a \\u escape that is an unpaired surrogate", raw=True)
    deep = b"[" * 70 + b"]" * 70
    header_case("json_too_deep.safetensors", b'{"__metadata__":{"k":' + deep + b'},"a":' + dumps(F32_2x2) + b"}", "JSON nests deeper than 64 levels", raw=True)

    # keys
    header_case("duplicate_tensor.safetensors", b'{"a":' + dumps(F32_2x2) + b',"a":' + dumps(entry(offsets=(16, 32))) + b"}",
                "tensor 'a': appears twice in the header", data=nonzero(32), raw=True)
    header_case("duplicate_tensor_escaped.safetensors", b'{"a":' + dumps(F32_2x2) + b',"\\u0061":' + dumps(entry(offsets=(16, 32))) + b"}",
                "tensor 'a': appears twice in the header", data=nonzero(32), raw=True)
    header_case("duplicate_metadata.safetensors", b'{"__metadata__":{},"a":' + dumps(F32_2x2) + b',"__metadata__":{}}',
                "'__metadata__' appears twice in the header", raw=True)
    header_case("duplicate_key_in_entry.safetensors", b'{"a":{"dtype":"F32","dtype":"F32","shape":[2,2],"data_offsets":[0,16]}}',
                "tensor 'a': duplicate key 'dtype' in the tensor entry", raw=True)
    header_case("duplicate_key_in_metadata.safetensors", b'{"__metadata__":{"format":"pt","format":"np"},"a":' + dumps(F32_2x2) + b"}",
                "duplicate key 'format' in __metadata__", raw=True)
    header_case("empty_tensor_name.safetensors", {"": F32_2x2}, "a tensor has an empty name")

    # tensor entries
    header_case("entry_not_object.safetensors", {"a": [0, 16]}, "tensor 'a': entry must be a JSON object with dtype, shape and data_offsets, found an array")
    header_case("entry_unknown_key.safetensors", {"a": {**F32_2x2, "endianness": "little"}}, "tensor 'a': unknown key 'endianness' in the tensor entry")
    header_case("entry_missing_dtype.safetensors", {"a": {"shape": [2, 2], "data_offsets": [0, 16]}}, "tensor 'a': missing 'dtype'")
    header_case("entry_missing_shape.safetensors", {"a": {"dtype": "F32", "data_offsets": [0, 16]}}, "tensor 'a': missing 'shape'")
    header_case("entry_missing_data_offsets.safetensors", {"a": {"dtype": "F32", "shape": [2, 2]}}, "tensor 'a': missing 'data_offsets'")
    header_case("dtype_not_string.safetensors", {"a": entry(dtype=7)}, "tensor 'a': dtype must be a string, found a number")
    header_case("dtype_unknown.safetensors", {"a": entry(dtype="F33")}, "tensor 'a': unknown dtype 'F33'")
    header_case("dtype_wrong_case.safetensors", {"a": entry(dtype="bf16", shape=(8,))}, "dtype names are case-sensitive: did you mean 'BF16'?")
    header_case("dtype_enum_spelling.safetensors", {"a": entry(dtype="Bool", shape=(16,))}, "unknown dtype 'Bool' (dtype names are case-sensitive: did you mean 'BOOL'?)")
    header_case("shape_not_array.safetensors", {"a": {**F32_2x2, "shape": 4}}, "tensor 'a': shape must be an array of non-negative integers, found a number")
    header_case("shape_float_dimension.safetensors", b'{"a":{"dtype":"F32","shape":[2,2.0],"data_offsets":[0,16]}}', "shape[1] is 2.0, not an integer", raw=True)
    header_case("shape_exponent_dimension.safetensors", b'{"a":{"dtype":"F32","shape":[4e0],"data_offsets":[0,16]}}', "shape[0] is 4e0, not an integer", raw=True)
    header_case("shape_negative_dimension.safetensors", {"a": entry(shape=(-2, -2))}, "shape[0] is negative (-2)")
    header_case("shape_dimension_too_large.safetensors", {"a": entry(shape=(2**63, 0))}, "shape[0] is 9223372036854775808, larger than the largest supported value")
    header_case("shape_string_dimension.safetensors", {"a": entry(shape=("2", 2))}, "shape[0] must be an integer, found a string")
    header_case("shape_nested_array.safetensors", {"a": entry(shape=([2, 2],))}, "shape[0] must be an integer, found an array")
    header_case("shape_rank_65.safetensors", {"a": entry(shape=[1] * 62 + [2, 2, 1])}, "shape has more than 64 dimensions")
    header_case("shape_element_count_overflow.safetensors", {"a": entry(shape=(2**32, 2**32))}, "overflows a 64-bit integer")
    header_case("shape_bit_count_overflow.safetensors", {"a": entry(dtype="F64", shape=(2**60,))}, "the size of shape [1152921504606846976] of F64 overflows a 64-bit integer")
    header_case("offsets_not_array.safetensors", {"a": {**F32_2x2, "data_offsets": "0-16"}}, "data_offsets must be an array of two integers [begin, end], found a string")
    header_case("offsets_three_entries.safetensors", {"a": entry(offsets=(0, 16, 32))}, "data_offsets has more than 2 entries; expected exactly 2")
    header_case("offsets_one_entry.safetensors", {"a": entry(offsets=(16,))}, "data_offsets has 1 entry; expected exactly 2")
    header_case("offsets_negative.safetensors", {"a": entry(offsets=(-16, 0))}, "data_offsets[0] is negative (-16)")
    header_case("offsets_float.safetensors", b'{"a":{"dtype":"F32","shape":[2,2],"data_offsets":[0,16.0]}}', "data_offsets[1] is 16.0, not an integer", raw=True)
    header_case("offsets_reversed.safetensors", {"a": entry(offsets=(16, 0))}, "data_offsets [16, 0] end before they begin")
    header_case("offsets_too_large.safetensors", {"a": entry(offsets=(0, 2**64 - 1))}, "data_offsets[1] is 18446744073709551615, larger than the largest supported value")
    header_case("size_too_small.safetensors", {"a": entry(offsets=(0, 12))}, "data_offsets [0, 12] span 12 bytes but shape [2, 2] of F32 needs 16", data=nonzero(12))
    header_case("size_too_large.safetensors", {"a": entry(offsets=(0, 20))}, "data_offsets [0, 20] span 20 bytes but shape [2, 2] of F32 needs 16", data=nonzero(20))
    header_case("scalar_without_bytes.safetensors", {"a": entry(shape=(), offsets=(0, 0))}, "span 0 bytes but shape [] (scalar) of F32 needs 4", data=b"")
    header_case("f4_odd_element_count.safetensors", {"a": entry(dtype="F4", shape=(3,), offsets=(0, 2))}, "shape [3] of F4 is 12 bits, not a whole number of bytes", data=nonzero(2))
    header_case("f6_partial_byte.safetensors", {"a": entry(dtype="F6_E2M3", shape=(5,), offsets=(0, 4))}, "shape [5] of F6_E2M3 is 30 bits, not a whole number of bytes", data=nonzero(4))

    # layout of the data section
    header_case("data_truncated.safetensors", {"a": F32_2x2}, "tensor 'a': data_offsets [0, 16] run past the end of the data section (10 bytes", data=nonzero(10))
    header_case("data_trailing_bytes.safetensors", {"a": F32_2x2}, "4 bytes at the end of the data section belong to no tensor", data=nonzero(20))
    header_case("data_without_tensors.safetensors", {"__metadata__": {"format": "pt"}}, "8 bytes at the end of the data section belong to no tensor", data=nonzero(8))
    header_case("tensors_overlap.safetensors", {"a": F32_2x2, "b": entry(offsets=(8, 24))}, "tensor 'b': bytes [8, 24) overlap tensor 'a' [0, 16)", data=nonzero(24))
    header_case("tensors_alias.safetensors", {"a": F32_2x2, "b": F32_2x2}, "tensor 'b': bytes [0, 16) overlap tensor 'a' [0, 16)")
    header_case("empty_tensor_inside_other.safetensors", {"a": F32_2x2, "e": entry(shape=(0,), offsets=(4, 4))}, "tensor 'e': empty tensor at offset 4 lies inside tensor 'a' [0, 16)")
    header_case("hole_between_tensors.safetensors", {"a": F32_2x2, "b": entry(offsets=(20, 36))}, "tensor 'b': 4 unused bytes before this tensor", data=nonzero(36))
    header_case("hole_at_start.safetensors", {"a": entry(offsets=(8, 24))}, "tensor 'a': 8 unused bytes before this tensor", data=nonzero(24))

    # __metadata__
    header_case("metadata_not_object.safetensors", {"__metadata__": ["format", "pt"], "a": F32_2x2}, "__metadata__ must be a JSON object of strings, found an array")
    header_case("metadata_number_value.safetensors", {"__metadata__": {"total_size": 16}, "a": F32_2x2}, "__metadata__ value of 'total_size' must be a string, found a number")
    header_case("metadata_null_value.safetensors", {"__metadata__": {"format": None}, "a": F32_2x2}, "__metadata__ value of 'format' must be a string, found null")
    header_case("metadata_as_tensor.safetensors", {"__metadata__": F32_2x2}, "'__metadata__' is reserved for the metadata map and cannot name a tensor")

    # sharded checkpoints (folders: the test opens the folder)
    def shard_file(names_and_entries):
        tensors = [tensor(n, "F32", [2]) for n in names_and_entries]
        header, data = layout(tensors, {"format": "pt"})
        return container(pad(dumps(header)), data)

    def index(weight_map, extra=None):
        return json.dumps({"metadata": {"total_size": 8 * len(weight_map)}, "weight_map": weight_map, **(extra or {})}, indent=2).encode()

    S1, S2 = "model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors"
    two = {"x": S1, "y": S2}

    def sharded(name, files, fragment):
        cases.append((name, files, fragment))

    sharded("sharded_missing_shard", {S1: shard_file(["x"]), "model.safetensors.index.json": index(two)},
            "shard 'model-00002-of-00002.safetensors' named in the weight_map does not exist")
    sharded("sharded_path_traversal/checkpoint", {
        "../evil.safetensors": shard_file(["y"]),
        S1: shard_file(["x"]),
        "model.safetensors.index.json": index({"x": S1, "y": "../evil.safetensors"})},
        "tensor 'y': shard file name '../evil.safetensors' must be a plain file name in the index's directory")
    sharded("sharded_absolute_path", {S1: shard_file(["x"]), "model.safetensors.index.json": index({"x": S1, "y": "/etc/evil.safetensors"})},
            "shard file name '/etc/evil.safetensors' must be a plain file name")
    sharded("sharded_subdirectory_shard", {S1: shard_file(["x"]), "sub/" + S2: shard_file(["y"]),
                                           "model.safetensors.index.json": index({"x": S1, "y": "sub/" + S2})},
            "shard file name 'sub/model-00002-of-00002.safetensors' must be a plain file name")
    sharded("sharded_tensor_missing_from_shard", {S1: shard_file(["x"]), S2: shard_file(["y"]),
                                                  "model.safetensors.index.json": index({"x": S1, "y": S2, "z": S2})},
            "tensor 'z': the weight_map places it in 'model-00002-of-00002.safetensors', which does not hold it (no shard holds it)")
    sharded("sharded_tensor_in_wrong_shard", {S1: shard_file(["x", "y"]), S2: shard_file(["w"]),
                                              "model.safetensors.index.json": index({"x": S1, "y": S2, "w": S2})},
            "tensor 'y': the weight_map places it in 'model-00002-of-00002.safetensors', which does not hold it (it is in 'model-00001-of-00002.safetensors')")
    sharded("sharded_tensor_in_two_shards", {S1: shard_file(["x", "y"]), S2: shard_file(["y"]),
                                             "model.safetensors.index.json": index(two)},
            "tensor 'y': appears in two shards: 'model-00001-of-00002.safetensors' and 'model-00002-of-00002.safetensors'")
    sharded("sharded_unlisted_tensor", {S1: shard_file(["x", "extra"]), S2: shard_file(["y"]),
                                        "model.safetensors.index.json": index(two)},
            "tensor 'extra': is in shard 'model-00001-of-00002.safetensors' but not listed in the weight_map")
    sharded("sharded_invalid_json", {S1: shard_file(["x"]), S2: shard_file(["y"]),
                                     "model.safetensors.index.json": index(two)[:-2] + b",}"},
            "index is not valid JSON")
    sharded("sharded_index_not_object", {S1: shard_file(["x"]), "model.safetensors.index.json": b'["x"]'},
            "index must be a JSON object, found an array")
    sharded("sharded_no_weight_map", {S1: shard_file(["x"]), "model.safetensors.index.json": b'{"metadata":{}}'},
            "index has no 'weight_map'")
    sharded("sharded_weight_map_not_object", {S1: shard_file(["x"]), "model.safetensors.index.json": b'{"weight_map":["x"]}'},
            "'weight_map' must be a JSON object mapping tensor names to shard files, found an array")
    sharded("sharded_empty_weight_map", {S1: shard_file(["x"]), "model.safetensors.index.json": b'{"weight_map":{}}'},
            "'weight_map' lists no tensors")
    sharded("sharded_shard_name_not_string", {S1: shard_file(["x"]), "model.safetensors.index.json": b'{"weight_map":{"x":1}}'},
            "tensor 'x': weight_map value must be a shard file name (a string), found a number")
    sharded("sharded_duplicate_weight_map_key", {S1: shard_file(["x"]),
                                                 "model.safetensors.index.json": b'{"weight_map":{"x":"' + S1.encode() + b'","x":"' + S1.encode() + b'"}}'},
            "tensor 'x': appears twice in the weight_map")
    sharded("sharded_metadata_not_object", {S1: shard_file(["x"]), "model.safetensors.index.json": b'{"metadata":"pt","weight_map":{"x":"' + S1.encode() + b'"}}'},
            "'metadata' must be a JSON object, found a string")
    truncated = shard_file(["y"])[:-3]
    sharded("sharded_broken_shard", {S1: shard_file(["x"]), S2: truncated, "model.safetensors.index.json": index(two)},
            "model-00002-of-00002.safetensors: tensor 'y': data_offsets [0, 8] run past the end of the data section")
    sharded("ambiguous_directory", {"a.safetensors": shard_file(["x"]), "b.safetensors": shard_file(["y"])},
            "the directory holds several .safetensors files and none is named model.safetensors; open one of them: a.safetensors, b.safetensors")

    names = [c[0] for c in cases]
    assert len(names) == len(set(names)), "case names must be unique"
    lines = ["# name\tmessage fragment (a folder name is opened as a directory with SafetensorsCollection.Open)"]
    for name, content, fragment in cases:
        if isinstance(content, dict):
            for rel, blob in content.items():
                write(os.path.normpath(os.path.join(BROKEN, name, rel)), blob)
        else:
            write(os.path.join(BROKEN, name), content)
        assert "\t" not in fragment and "\n" not in fragment
        lines.append(f"{name}\t{fragment}")
    write(os.path.join(BROKEN, "EXPECTED.tsv"), ("\n".join(lines) + "\n").encode())
    return len(cases)


def main():
    for folder in (VALID, BROKEN):
        if os.path.isdir(folder):
            shutil.rmtree(folder)
    valid_corpus()
    n = broken_corpus()
    print(f"wrote {VALID} and {BROKEN} ({n} broken cases)")


if __name__ == "__main__":
    main()
