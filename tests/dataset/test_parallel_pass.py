"""The batch and multi-process paths of a pass give exactly what the serial per-record path gives.

Same spill bytes, same line map, same validation report, and for bad input the same
error (type, message, file, line, field).
"""

from __future__ import annotations

import json
import multiprocessing
import os
import random
from pathlib import Path
from typing import Any

import orjson
import pytest

from amzn_nova_forge.core.enums import Model, TrainingMethod
from amzn_nova_forge.dataset import JSONLDatasetLoader, _parallel, _passes, _store
from amzn_nova_forge.dataset._fastbatch import plain_batch, reserved_free
from amzn_nova_forge.dataset._passes import Work
from amzn_nova_forge.dataset._transforms import build_transform
from amzn_nova_forge.dataset._validate import Validator, resolve
from amzn_nova_forge.errors import DataPrepError

WORDS = ["alpha", "beta", "gamma", "river", "stone", "cloud", "é", "日本", "🙂", "\u212a", "\x7f", "\u2028", "İ"]
_PARALLEL_PASS = _parallel.parallel_pass
RESERVED = ["User:", "bot:", "ASSISTANT:", "System:", "thought:", "<image>", "<Video>", "<unk>", "[EOS]", "[eos]"]


def _text(rng: random.Random) -> str:
    words = [rng.choice(WORDS) for _ in range(rng.randint(1, 8))]
    roll = rng.random()
    if roll < 0.03:
        words.insert(rng.randrange(len(words) + 1), rng.choice(RESERVED))
    elif roll < 0.05:
        words.append(rng.choice(['say "hi"', "a\\b", "line\nbreak", "tab\t", "x:y", "<b>", "[1]"]))
    elif roll < 0.06:
        return ""
    return " ".join(words)


def _record(rng: random.Random, i: int) -> dict[str, Any]:
    rec: dict[str, Any] = {"input": f"Question {i}: {_text(rng)}?", "output": _text(rng)}
    roll = rng.random()
    if roll < 0.01:
        rec["output"] = i  # a number: written as text by the per-record path
    elif roll < 0.02:
        rec["system"] = _text(rng)  # some records only: a consistency problem
    elif roll < 0.03:
        rec["reasoning_text"] = "think " + _text(rng)
    elif roll < 0.04:
        rec["extra"] = [1, 2]
    return rec


def _write(path: Path, records: list[Any], blank_every: int = 0, crlf: bool = False, bom: bool = False) -> str:
    nl = "\r\n" if crlf else "\n"
    lines = []
    for k, rec in enumerate(records):
        lines.append(rec if isinstance(rec, str) else json.dumps(rec))
        if blank_every and k % blank_every == blank_every - 1:
            lines.append("   ")
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + (nl.join(lines) + nl).encode())
    return str(path)


def _run(
    path: str, out: Path, workers: str, monkeypatch: pytest.MonkeyPatch, max_record_bytes: int | None = None
) -> tuple[Any, ...]:
    """load → transform → validate report → save, with ``workers`` worker processes ("0": serial)."""
    monkeypatch.setenv(_parallel.WORKERS_ENV, workers)
    used: list[bool] = []

    def spy(*args: Any) -> Any:
        result = _PARALLEL_PASS(*args)
        used.append(result is not None)
        return result

    monkeypatch.setattr(_parallel, "parallel_pass", spy)
    loader = JSONLDatasetLoader(question="input", answer="output")
    if max_record_bytes is not None:
        loader.max_record_bytes = max_record_bytes
    loader.load(path)
    loader.transform(method=TrainingMethod.SFT_LORA, model=Model.NOVA_LITE_2)
    try:
        report = loader._validate_report(TrainingMethod.SFT_LORA, Model.NOVA_LITE_2)
    except DataPrepError as e:
        return ("error", type(e), str(e), e.path, e.line, e.field, used)
    lines = loader._store.lines
    loader.save_data(str(out))
    return (
        out.read_bytes(),
        None if lines is None else list(lines),
        report.problems,
        report.total,
        report.bad_records,
        report.records,
        report.warnings,
        report.summary(),
        used,
    )


@pytest.fixture
def small_pieces(monkeypatch: pytest.MonkeyPatch) -> None:
    """Pieces of 4 KiB: a few thousand records make dozens of pieces across two workers; the
    serial pass reads 64 KiB at a time (so a late line is not in the first read)."""
    monkeypatch.setattr(_parallel, "PIECE_BYTES", 4096)
    monkeypatch.setattr(_store, "CHUNK_BYTES", 1 << 16)
    monkeypatch.setattr(_passes, "SLICE", 64)


def _compare(path: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Any, ...]:
    serial = _run(path, tmp_path / "serial.jsonl", "0", monkeypatch)
    parallel = _run(path, tmp_path / "parallel.jsonl", "2", monkeypatch)
    assert serial[-1] == [False]  # the serial run used no workers
    assert parallel[:-1] == serial[:-1]
    return serial[:-1] + (parallel[-1],)


@pytest.mark.usefixtures("small_pieces")
@pytest.mark.parametrize(("blank_every", "crlf", "bom"), [(0, False, False), (97, True, True)])
def test_parallel_output_and_report_match_serial(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, blank_every: int, crlf: bool, bom: bool
) -> None:
    rng = random.Random(13)
    path = _write(tmp_path / "in.jsonl", [_record(rng, i) for i in range(3000)], blank_every, crlf, bom)
    result = _compare(path, tmp_path, monkeypatch)
    out, lines, problems, total, bad, records, _warnings, summary, used = result
    assert used == [True]  # the workers did the pass
    assert summary.startswith(f"SFT (Nova 2 Lite) dataset is invalid: {total:,} problems in {bad:,} of 3,000 records")
    assert records == 3000 and out.count(b"\n") == 3000
    assert total > 100 and bad > 100  # reserved words and empty texts in many pieces
    assert any(p.line is not None and p.line > 2500 for p in problems)
    assert any("reserved word" in p.message for p in problems)
    assert any(p.line is None or p.path == "$.system" for p in problems)  # the consistency rule
    if blank_every:
        assert lines is not None and lines[-1] == 3000 + 3000 // blank_every
    else:
        assert lines is None


@pytest.mark.usefixtures("small_pieces")
def test_parallel_clean_data_matches_serial(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    records = [{"input": f"Question {i}: what is {i} + {i}?", "output": str(2 * i)} for i in range(4000)]
    path = _write(tmp_path / "in.jsonl", records)
    out, lines, problems, total, _bad, count, _w, summary, used = _compare(path, tmp_path, monkeypatch)
    assert used == [True] and total == 0 and problems == [] and count == 4000 and lines is None
    assert summary == "Validation succeeded for 4000 samples on an SFT dataset"
    first = orjson.loads(out.split(b"\n", 1)[0])
    assert first["messages"][0]["content"][0]["text"] == "Question 0: what is 0 + 0?"


@pytest.mark.usefixtures("small_pieces")
@pytest.mark.parametrize(
    ("bad_line", "field"),
    [
        ('{"input": "q", "output": "a"', None),  # bad JSON
        ('{"input": "q"}', "$.output"),  # a record the transform cannot build
        ('{"input": "q", "output": "a", "id": 123456789012345678901234567890}', "$.id"),  # the JSON contract
        ('["input", "output"]', None),  # not an object
    ],
)
def test_parallel_errors_match_serial(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, bad_line: str, field: str | None
) -> None:
    rng = random.Random(7)
    records: list[Any] = [_record(rng, i) for i in range(3000)]
    records[2710] = bad_line  # line 2711, in a late piece
    path = _write(tmp_path / "in.jsonl", records)
    serial = _run(path, tmp_path / "s.jsonl", "0", monkeypatch)
    parallel = _run(path, tmp_path / "p.jsonl", "2", monkeypatch)
    assert serial[0] == "error"
    assert parallel[:-1] == serial[:-1]
    assert serial[3:6] == (path, 2711, field)
    assert parallel[-1] == [False]  # the workers stopped; the serial pass raised
    assert not (tmp_path / "p.jsonl").exists()


def test_parallel_is_skipped_where_unsafe(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Counters (RFT multiturn ids) and collected media keep the serial pass; so does a small file."""
    monkeypatch.setenv(_parallel.WORKERS_ENV, "2")
    path = _write(tmp_path / "in.jsonl", [{"prompt": "p"}] * 10)
    loader = JSONLDatasetLoader().load(path)
    fn = build_transform(TrainingMethod.RFT_MULTITURN_LORA, Model.NOVA_LITE_2, {})
    assert fn.pure is False  # type: ignore[attr-defined]
    store = loader._require()
    assert _parallel.parallel_pass(store, Work([fn], None, path), "x") is None
    sft = build_transform(TrainingMethod.SFT_LORA, Model.NOVA_LITE_2, {})
    media = Validator(resolve(TrainingMethod.SFT_LORA, Model.NOVA_LITE_2), check_media=True)
    assert not media.mergeable
    assert _parallel.parallel_pass(store, Work([sft], media, path), "x") is None
    monkeypatch.delenv(_parallel.WORKERS_ENV)
    assert _parallel.worker_count(_parallel.MIN_BYTES - 1) == 0
    monkeypatch.setenv(_parallel.WORKERS_ENV, "1")
    assert _parallel.worker_count(1 << 30) == 0
    monkeypatch.setenv(_parallel.WORKERS_ENV, "two")
    with pytest.raises(DataPrepError, match="NOVA_FORGE_DATAPREP_WORKERS must be a whole number"):
        _parallel.worker_count(1 << 30)


def _fast_rows(recs: list[dict[str, Any]]) -> bytes:
    fn = build_transform(TrainingMethod.SFT_LORA, Model.NOVA_LITE_2, {"question": "q", "answer": "a"})
    return b"".join(fn.fast(r, 1)[0] for r in recs)  # type: ignore[attr-defined]


def test_plain_batch_is_byte_identical_to_the_record_template() -> None:
    rng = random.Random(3)
    cols = ("q", "a", "messages", True)
    for _ in range(300):
        recs = [{"q": _text(rng), "a": _text(rng)} for _ in range(rng.randint(1, 20))]
        done = plain_batch(recs, cols)
        escaped = any(c in r["q"] + r["a"] for r in recs for c in '"\\\n\t')
        if escaped:
            assert done is None
            continue
        assert done is not None
        out, pairs, values, flat = done
        assert out == _fast_rows(recs)
        assert pairs == [(r["q"], r["a"]) for r in recs]
        assert values == [v for r in recs for v in (r["q"], r["a"])]
        assert flat


@pytest.mark.parametrize(
    "recs",
    [
        [{"q": "x", "a": 1}],  # not a string
        [{"q": "x", "a": "y", "system": "s"}],  # a column that changes the template
        [{"q": "x", "a": "y", "reasoning_text": "r"}],
        [{"q": "x", "a": "y"}, {"q": "x"}],  # a missing column
        [{"q": "x", "a": "y", "messages": []}],
        [{"q": ["x"], "a": "y"}],
    ],
)
def test_plain_batch_declines_other_shapes(recs: list[dict[str, Any]]) -> None:
    assert plain_batch(recs, ("q", "a", "messages", True)) is None


def test_reserved_free_has_no_false_negatives() -> None:
    """Whenever the per-record check finds a problem, the batch screen says so (case, Unicode)."""
    rng = random.Random(5)
    spec = resolve(TrainingMethod.SFT_LORA, Model.NOVA_LITE_2)
    for _ in range(2000):
        values = [_text(rng) for _ in range(rng.randint(1, 6))]
        if rng.random() < 0.2:
            values[rng.randrange(len(values))] = rng.choice(["<un\u212a>", "uSeR:", "x[EoS]y", "A:B", "İmage"])
        if any(c in v for v in values for c in '"\\\n\t'):
            continue
        validator = Validator(spec)
        for k in range(0, len(values) - 1, 2):
            validator.feed_fields((values[k], values[k + 1], None, None, None, None), k + 1)
        pairs_ok = validator.total == 0
        if not pairs_ok:
            assert not reserved_free(values[: len(values) // 2 * 2]), values


@pytest.mark.usefixtures("small_pieces")
def test_a_worker_that_dies_leaves_the_serial_pass(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A worker killed mid-pass (out of memory, a signal) costs time, never records."""
    rng = random.Random(11)
    path = _write(tmp_path / "in.jsonl", [_record(rng, i) for i in range(2000)])
    serial = _run(path, tmp_path / "s.jsonl", "0", monkeypatch)
    calls = [0]
    real_piece = _parallel._piece

    def dying(*args: Any) -> Any:
        calls[0] += 1
        if calls[0] == 3:  # the third piece this worker gets
            os._exit(1)
        return real_piece(*args)

    monkeypatch.setattr(_parallel, "_piece", dying)
    parallel = _run(path, tmp_path / "p.jsonl", "2", monkeypatch)
    assert parallel[-1] == [False]
    assert parallel[:-1] == serial[:-1]


def test_without_fork_the_pass_is_serial(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(multiprocessing, "get_all_start_methods", lambda: ["spawn"])
    path = _write(tmp_path / "in.jsonl", [{"input": f"q{i}", "output": "a"} for i in range(100)])
    result = _run(path, tmp_path / "o.jsonl", "2", monkeypatch)
    assert result[-1] == [False] and result[5] == 100 and result[3] == 0


@pytest.mark.usefixtures("small_pieces")
@pytest.mark.parametrize(("limit", "error"), [(None, False), (8000, True)])
def test_lines_longer_than_a_piece(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, limit: int | None, error: bool
) -> None:
    """A 9 KB line spans several 4 KiB pieces; over the record limit it is the serial pass's error."""
    rng = random.Random(17)
    records: list[Any] = [_record(rng, i) for i in range(3000)]
    records[2499] = {"input": "long one", "output": "word " * 1800}
    path = _write(tmp_path / "in.jsonl", records)
    serial = _run(path, tmp_path / "s.jsonl", "0", monkeypatch, limit)
    parallel = _run(path, tmp_path / "p.jsonl", "2", monkeypatch, limit)
    assert parallel[:-1] == serial[:-1]
    if error:
        assert serial[0] == "error" and serial[4] == 2500 and "8,000-byte limit" in serial[2]
        assert parallel[-1] == [False]
    else:
        assert parallel[-1] == [True] and serial[5] == 3000
