"""One loader contract for JSON and JSONL (issue 17 item 2): every malformed value refused alike.

Each value variant is written as the *second* record of a JSONL file (line 2) and of a JSON
array laid out one element per line (line 3), and must give the same outcome in both:
a :class:`DataPrepError` naming the file, the line and the JSON path with the same message,
or the same accepted record. File-level variants (encoding, structure, sizes) follow.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from amzn_nova_forge import Model, TrainingMethod
from amzn_nova_forge.dataset import JSONDatasetLoader, JSONLDatasetLoader
from amzn_nova_forge.dataset._jsonrules import MAX_DEPTH
from amzn_nova_forge.errors import DataPrepError

BIG = "123456789012345678901234567890"


def nest(depth: int, leaf: str = "1", kind: str = "[") -> str:
    """``depth`` nested containers around ``leaf`` (arrays, or objects keyed "a")."""
    if kind == "[":
        return "[" * depth + leaf + "]" * depth
    return '{"a":' * depth + leaf + "}" * depth


# (name, JSON text of the record, expected): expected is ("error", json_path, message part)
# or ("ok", the record as Python).
VARIANTS: list[tuple[str, str, tuple[str, object, object]]] = [
    # ---- non-finite numbers
    ("NaN", '{"a": NaN}', ("error", "$.a", "NaN is not a JSON number")),
    ("Infinity", '{"a": Infinity}', ("error", "$.a", "Infinity is not a JSON number")),
    ("-Infinity", '{"a": -Infinity}', ("error", "$.a", "-Infinity is not a JSON number")),
    ("NaN in list", '{"a": [1, 2, NaN]}', ("error", "$.a[2]", "NaN")),
    ("NaN deep", '{"a": {"b": [{"c": NaN}]}}', ("error", "$.a.b[0].c", "NaN")),
    ("Infinity in key with space", '{"x y": Infinity}', ("error", '$["x y"]', "Infinity")),
    ("NaN as first key", '{"NaN": NaN, "b": 1}', ("error", "$.NaN", "NaN")),
    ("1e400", '{"a": 1e400}', ("error", "$.a", "number 1e400 is too large")),
    ("-1e400", '{"a": -1e400}', ("error", "$.a", "number -1e400 is too large")),
    ("1E309", '{"a": 1E309}', ("error", "$.a", "too large for a 64-bit float")),
    ("1.8e308", '{"a": [1.8e308]}', ("error", "$.a[0]", "too large")),
    ("1e400 in nested object", '{"m": {"score": 1e999}}', ("error", "$.m.score", "too large")),
    # ---- integers beyond 64 bits
    ("30-digit id", f'{{"id": {BIG}}}', ("error", "$.id", f"integer {BIG} is outside the 64-bit range")),
    ("2**64", '{"a": 18446744073709551616}', ("error", "$.a", "outside the 64-bit range")),
    ("-2**63-1", '{"a": -9223372036854775809}', ("error", "$.a", "outside the 64-bit range")),
    ("big int in list", f'{{"a": [1, {BIG}]}}', ("error", "$.a[1]", "write it as a string")),
    ("big int deep", f'{{"a": {{"b": {{"c": -{BIG}}}}}}}', ("error", "$.a.b.c", "outside the 64-bit range")),
    ("big int 40 digits", '{"n": ' + "9" * 40 + "}", ("error", "$.n", "outside the 64-bit range")),
    ("big int after string digits", f'{{"s": "{"1" * 25}", "n": {BIG}}}', ("error", "$.n", "64-bit")),
    ("2**64-1 kept", '{"a": 18446744073709551615}', ("ok", {"a": 18446744073709551615}, None)),
    ("-2**63 kept", '{"a": -9223372036854775808}', ("ok", {"a": -9223372036854775808}, None)),
    ("19 digits kept", '{"a": 1234567890123456789}', ("ok", {"a": 1234567890123456789}, None)),
    ("30-digit id as string kept", f'{{"id": "{BIG}"}}', ("ok", {"id": BIG}, None)),
    (
        "digits in string kept",
        '{"phone": "00441234567890123456789"}',
        ("ok", {"phone": "00441234567890123456789"}, None),
    ),
    ("long fraction kept", '{"a": 1.2345678901234567890123}', ("ok", {"a": 1.2345678901234567}, None)),
    ("long fraction negative", '{"a": -0.00000000000000000001}', ("ok", {"a": -1e-20}, None)),
    ("1e-400 underflows to 0", '{"a": 1e-400}', ("ok", {"a": 0.0}, None)),
    ("1e308 kept", '{"a": 1e308}', ("ok", {"a": 1e308}, None)),
    ("-0 kept", '{"a": -0}', ("ok", {"a": 0}, None)),
    ("exponent int kept as float", '{"a": 1E2}', ("ok", {"a": 100.0}, None)),
    # ---- strings and surrogates
    ("lone high surrogate", '{"s": "\\ud800"}', ("error", "$.s", "lone UTF-16 surrogate")),
    ("lone low surrogate", '{"s": "\\udc00"}', ("error", "$.s", "lone UTF-16 surrogate")),
    ("high then letter", '{"s": "x\\ud800A"}', ("error", "$.s", "lone UTF-16 surrogate")),
    ("reversed pair", '{"s": "\\ude00\\ud83d"}', ("error", "$.s", "lone UTF-16 surrogate")),
    ("surrogate in list", '{"s": ["ok", "\\udfff"]}', ("error", "$.s[1]", "lone UTF-16 surrogate")),
    ("surrogate deep", '{"m": [{"t": "\\ud834"}]}', ("error", "$.m[0].t", "surrogate")),
    ("valid pair kept", '{"s": "\\ud83d\\ude00"}', ("ok", {"s": "\U0001f600"}, None)),
    ("NUL escape kept", '{"s": "a\\u0000b"}', ("ok", {"s": "a\x00b"}, None)),
    ("unicode kept", '{"s": "héllo – 日本"}', ("ok", {"s": "héllo – 日本"}, None)),
    ("escaped quote kept", '{"s": "say \\"hi\\""}', ("ok", {"s": 'say "hi"'}, None)),
    ("brackets in string kept", '{"s": "' + "[" * 300 + '"}', ("ok", {"s": "[" * 300}, None)),
    ("braces in string kept", '{"s": "' + "{" * 200 + '"}', ("ok", {"s": "{" * 200}, None)),
    # ---- nesting
    ("depth at the limit", '{"d": ' + nest(MAX_DEPTH - 1) + "}", ("ok", None, None)),
    ("depth one over", '{"d": ' + nest(MAX_DEPTH) + "}", ("error", None, f"deeper than {MAX_DEPTH} levels")),
    ("depth 200 arrays", '{"d": ' + nest(200) + "}", ("error", None, "deeper than")),
    ("depth 300 objects", '{"d": ' + nest(300, kind="{") + "}", ("error", None, "deeper than")),
    ("depth 600", '{"d": ' + nest(600) + "}", ("error", None, "deeper than")),
    ("depth 5000", '{"d": ' + nest(5000) + "}", ("error", None, "deeper than")),
    ("depth 129 mixed", '{"d": ' + '[{"a":' * 65 + "1" + "}]" * 65 + "}", ("error", None, "deeper than")),
    ("wide but shallow kept", '{"d": [' + ",".join(["[1]"] * 400) + "]}", ("ok", None, None)),
    # ---- other accepted shapes
    ("duplicate keys last wins", '{"a": 1, "a": 2}', ("ok", {"a": 2}, None)),
    ("empty object kept", "{}", ("ok", {}, None)),
    ("null values kept", '{"a": null, "b": [null]}', ("ok", {"a": None, "b": [None]}, None)),
    ("booleans kept", '{"t": true, "f": false}', ("ok", {"t": True, "f": False}, None)),
    ("whitespace around", '   {"a": 1}   ', ("ok", {"a": 1}, None)),
]


def _jsonl(tmp_path: Path, text: str) -> tuple[str, int]:
    path = tmp_path / "data.jsonl"
    path.write_bytes(b'{"first": 1}\n' + text.encode("utf-8") + b'\n{"last": 1}\n')
    return str(path), 2


def _json(tmp_path: Path, text: str) -> tuple[str, int]:
    path = tmp_path / "data.json"
    path.write_bytes(b'[\n{"first": 1},\n' + text.encode("utf-8") + b',\n{"last": 1}\n]\n')
    return str(path), 3


WRITERS = {"jsonl": (_jsonl, JSONLDatasetLoader), "json": (_json, JSONDatasetLoader)}


def _outcome(tmp_path: Path, fmt: str, text: str) -> tuple[str, object, object, object]:
    write, cls = WRITERS[fmt]
    path, line = write(tmp_path, text)
    try:
        recs = list(cls().load(path))
    except DataPrepError as e:
        assert e.path == path, (e.path, path)
        assert e.line == line, (e.line, line, str(e))
        return "error", e.field, str(e).split(": ", 1)[1], None
    assert recs[0] == {"first": 1} and recs[-1] == {"last": 1} and len(recs) == 3
    return "ok", recs[1], None, None


@pytest.mark.parametrize("fmt", ["jsonl", "json"])
@pytest.mark.parametrize(("name", "text", "expected"), VARIANTS, ids=[v[0] for v in VARIANTS])
def test_value_variant(tmp_path, fmt, name, text, expected):
    kind, field_or_rec, part = expected
    got = _outcome(tmp_path, fmt, text)
    assert got[0] == kind, got
    if kind == "error":
        if field_or_rec is not None:
            assert got[1] == field_or_rec, got
        else:
            assert got[1] is not None and got[1].startswith("$"), got
        assert str(part) in str(got[2]), got
    elif field_or_rec is not None:
        assert got[1] == field_or_rec
        assert type(got[1]) is type(field_or_rec)


@pytest.mark.parametrize(("name", "text", "expected"), VARIANTS, ids=[v[0] for v in VARIANTS])
def test_json_and_jsonl_agree(tmp_path, name, text, expected):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    assert _outcome(tmp_path / "a", "jsonl", text) == _outcome(tmp_path / "b", "json", text)


def test_a_big_integer_id_never_becomes_a_float_through_the_rft_transform(tmp_path):
    path = tmp_path / "rft.jsonl"
    path.write_text(f'{{"id": {BIG}, "question": "q", "reference_answer": "a"}}\n')
    with pytest.raises(DataPrepError, match="write it as a string") as e:
        JSONLDatasetLoader().load(str(path)).transform(TrainingMethod.RFT_LORA, Model.NOVA_LITE_2)
    assert e.value.field == "$.id" and e.value.line == 1
    path.write_text(f'{{"id": "{BIG}", "question": "q", "reference_answer": "a"}}\n')
    loader = JSONLDatasetLoader().load(str(path)).transform(TrainingMethod.RFT_LORA, Model.NOVA_LITE_2)
    out = tmp_path / "out.jsonl"
    loader.save(str(out))
    assert json.loads(out.read_text())["id"] == BIG
    (tmp_path / "rft.json").write_text(f'[{{"id": {BIG}, "question": "q", "reference_answer": "a"}}]')
    with pytest.raises(DataPrepError, match="write it as a string"):
        JSONDatasetLoader().load(str(tmp_path / "rft.json"))


def test_big_integer_on_a_late_line_of_a_large_jsonl_file(tmp_path):
    path = tmp_path / "big.jsonl"
    rows = [json.dumps({"i": i, "text": "x" * 100}) for i in range(60_000)]  # > one 4 MiB read chunk
    rows[55_555] = f'{{"i": {BIG}}}'
    path.write_text("\n".join(rows) + "\n")
    loader = JSONLDatasetLoader().load(str(path))
    with pytest.raises(DataPrepError) as e:
        len(loader)
    assert e.value.line == 55_556 and e.value.field == "$.i"


# ---- file-level variants: structure, encoding, sizes (each a typed error with file and line)
FILE_VARIANTS: list[tuple[str, str, bytes, int | None, str]] = [
    ("jsonl", "truncated object", b'{"a": 1}\n{"a": \n', 2, "not valid JSON"),
    ("jsonl", "trailing comma", b'{"a": 1,}\n', 1, "not valid JSON"),
    ("jsonl", "single quotes", b"{'a': 1}\n", 1, "not valid JSON"),
    ("jsonl", "comment", b'{"a": 1}\n// note\n', 2, "not valid JSON"),
    ("jsonl", "array line", b'{"a": 1}\n[1, 2]\n', 2, "expected a JSON object"),
    ("jsonl", "string line", b'{"a": 1}\n"text"\n', 2, "expected a JSON object"),
    ("jsonl", "null line", b'{"a": 1}\nnull\n', 2, "expected a JSON object"),
    ("jsonl", "two objects on a line", b'{"a": 1} {"b": 2}\n', 1, "not valid JSON"),
    ("jsonl", "bare nan word", b'{"a": nan}\n', 1, "not valid JSON"),
    ("jsonl", "raw control char", b'{"a": "x\x01y"}\n', 1, "not valid JSON"),
    ("jsonl", "bad escape", b'{"a": "\\x41"}\n', 1, "not valid JSON"),
    ("jsonl", "invalid utf-8", b'{"a": 1}\n{"a": "\xff\xfe"}\n', 2, "UTF-8"),
    ("jsonl", "utf-16 file", '{"a": 1}\n'.encode("utf-16"), 1, "UTF-16"),
    ("jsonl", "only blank lines", b"\n \n\t\n", None, "no records"),
    ("json", "empty file", b"", None, "empty"),
    ("json", "top-level string", b'"text"', 1, "array of objects or one object"),
    ("json", "top-level number", b"42", 1, "array of objects or one object"),
    ("json", "array of numbers", b"[1, 2]", 1, "expected JSON objects"),
    ("json", "unterminated array", b'[{"a": 1},\n{"a": 2}', 2, "expected ',' or ']'"),
    ("json", "trailing comma", b'[{"a": 1},]', 1, "not valid JSON"),
    ("json", "missing comma", b'[{"a": 1}\n{"a": 2}]', 2, "expected ',' or ']'"),
    ("json", "data after array", b'[{"a": 1}] {"b": 2}', 1, "unexpected data after"),
    ("json", "data after object", b'{"a": 1}\n{"b": 2}', 2, "unexpected data after"),
    ("json", "invalid utf-8", b'[{"a": "\xc3\x28"}]', 1, "UTF-8"),
    ("json", "utf-16 file", '[{"a": 1}]'.encode("utf-16"), 1, "UTF-16"),
    ("json", "empty array", b"[]", None, "no records"),
    ("json", "single quotes", b"[{'a': 1}]", 1, "not valid JSON"),
    ("json", "NaN bare word in array", b"[NaN]", 1, "NaN is not a JSON number"),
]


@pytest.mark.parametrize(
    ("fmt", "name", "data", "line", "part"), FILE_VARIANTS, ids=[f"{v[0]}-{v[1]}" for v in FILE_VARIANTS]
)
def test_file_variant(tmp_path, fmt, name, data, line, part):
    path = tmp_path / f"data.{fmt}"
    path.write_bytes(data)
    cls = JSONLDatasetLoader if fmt == "jsonl" else JSONDatasetLoader
    with pytest.raises(DataPrepError, match=part) as e:
        list(cls().load(str(path)))
    assert e.value.path == str(path)
    assert e.value.line == line


@pytest.mark.parametrize("fmt", ["jsonl", "json"])
@pytest.mark.parametrize(("size", "ok"), [(900, True), (1100, False)])
def test_record_size_limit_is_the_same_for_both(tmp_path, fmt, size, ok):
    text = json.dumps({"s": "x" * size})
    write, cls = WRITERS[fmt]
    path, line = write(tmp_path, text)
    loader = cls()
    loader.max_record_bytes = 1000
    if ok:
        assert len(list(loader.load(path))) == 3
    else:
        with pytest.raises(DataPrepError, match="over the 1,000-byte limit") as e:
            list(loader.load(path))
        assert e.value.path == path and e.value.line == line


@pytest.mark.parametrize(
    ("data", "want"),
    [
        (b'\xef\xbb\xbf{"a": 1}\n', [{"a": 1}]),
        (b'{"a": 1}\r\n{"a": 2}\r\n', [{"a": 1}, {"a": 2}]),
        (b'{"a": 1}\n\n\n{"a": 2}', [{"a": 1}, {"a": 2}]),
        (b'  {"a": 1}  \n', [{"a": 1}]),
    ],
)
def test_jsonl_accepts_bom_crlf_blank_lines_and_no_final_newline(tmp_path, data, want):
    path = tmp_path / "ok.jsonl"
    path.write_bytes(data)
    assert list(JSONLDatasetLoader().load(str(path))) == want


@pytest.mark.parametrize(
    ("data", "want"),
    [
        (b'\xef\xbb\xbf[{"a": 1}]', [{"a": 1}]),
        (b'{"a": 1}', [{"a": 1}]),
        (b'  [ {"a": 1} , {"b": [1, 2]} ]  \n', [{"a": 1}, {"b": [1, 2]}]),
    ],
)
def test_json_accepts_bom_single_object_and_whitespace(tmp_path, data, want):
    path = tmp_path / "ok.json"
    path.write_bytes(data)
    assert list(JSONDatasetLoader().load(str(path))) == want
