"""The one-pass (streaming) pipeline against the three-phase one, and a source read in place.

Pipelines without FUZZY_DEDUP decide each chunk as its analysis arrives; the result must be
byte for byte what the whole-dataset decision writes. A local JSONL file with nothing to
transform is filtered in place (no copy first): its bad lines still fail with the file and
line, blank lines keep their numbering, and the file is never written.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from amzn_nova_forge.core.enums import FilterMethod, Model, Platform, TrainingMethod
from amzn_nova_forge.dataset import JSONLDatasetLoader
from amzn_nova_forge.dataset._curation import _pipeline
from amzn_nova_forge.errors import DataPrepError
from tests.curation.conftest import random_docs, sha

INVALID = {"training_method": TrainingMethod.CPT, "model": Model.NOVA_LITE_2, "platform": Platform.SMTJ}


def corpus_lines(n: int, seed: int = 0) -> list[str]:
    rng = random.Random(seed)
    docs = random_docs(n, seed=seed, words=25)
    lines = []
    for i, d in enumerate(docs):
        r = rng.random()
        if r < 0.1 and i:
            d = docs[rng.randrange(i)]  # exact duplicate of an earlier record
        elif r < 0.13:
            d = " ".join(docs[rng.randrange(max(i, 1))].split()[:3])  # too short
        elif r < 0.16:
            d = "  " + d.replace(" ", "\t", 3) + " "  # a duplicate once whitespace is normalised
        rec = {"text": d, "extra": 1} if rng.random() < 0.02 else {"text": d}
        lines.append(json.dumps(rec))
        if rng.random() < 0.03:
            lines.append("")  # blank lines: records keep their source line numbers
    return lines


def run(src: Path, out: Path, queue: list[tuple[FilterMethod, dict]], executor: str) -> dict[str, bytes]:
    loader = JSONLDatasetLoader().load(str(src))
    for k, (method, kwargs) in enumerate(queue):
        loader.filter(method=method, output_path=str(out / f"s{k}"), **kwargs)
    loader.execute(executor=executor)
    kept = out / "kept.jsonl"
    loader.save_data(str(kept))
    files = {p.relative_to(out).as_posix(): p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()}
    summary = {k: json.loads(v) for k, v in files.items() if k.endswith("_summary.json")}
    for s in summary.values():
        s.pop("params", None)
    files = {k: v for k, v in files.items() if not k.endswith("_summary.json")}
    files["summaries"] = json.dumps(summary, sort_keys=True).encode()
    return files


QUEUES = [
    [(FilterMethod.EXACT_DEDUP, {}), (FilterMethod.DEFAULT_TEXT_FILTER, {}), (FilterMethod.INVALID_RECORDS, INVALID)],
    [(FilterMethod.DEFAULT_TEXT_FILTER, {}), (FilterMethod.EXACT_DEDUP, {})],
    [(FilterMethod.INVALID_RECORDS, INVALID), (FilterMethod.EXACT_DEDUP, {"lowercase": True})],
    [(FilterMethod.EXACT_DEDUP, {}), (FilterMethod.EXACT_DEDUP, {"lowercase": True})],
]


@pytest.mark.parametrize("queue", QUEUES, ids=["exact-text-invalid", "text-exact", "invalid-exactlc", "exact-twice"])
def test_streaming_writes_what_the_three_phase_pipeline_writes(tmp_path, monkeypatch, queue):
    src = tmp_path / "in.jsonl"
    src.write_text("\n".join(corpus_lines(30000)) + "\n")
    before = sha(src)
    streamed = run(src, tmp_path / "a", queue, "local")
    monkeypatch.setattr(_pipeline, "_streamable", lambda steps: False)
    phased = run(src, tmp_path / "b", queue, "serial")
    assert streamed.keys() == phased.keys()
    for name in streamed:
        assert streamed[name] == phased[name], name
    assert sha(src) == before
    dropped = [json.loads(x) for x in streamed["s0/dropped.jsonl"].splitlines()]
    assert dropped  # the corpus has something for every filter to drop


def test_side_file_lines_are_source_lines_with_blank_lines_read_in_place(tmp_path):
    src = tmp_path / "in.jsonl"
    a = json.dumps({"text": "alpha beta gamma " * 5})
    b = json.dumps({"text": "delta epsilon zeta " * 5})
    src.write_text(f"\n{a}\n\n{b}\n\n\n{a}\r\n{b}\n")
    loader = JSONLDatasetLoader().load(str(src))
    loader.filter(method=FilterMethod.EXACT_DEDUP, output_path=str(tmp_path / "o")).execute()
    dropped = [json.loads(x) for x in (tmp_path / "o" / "dropped.jsonl").read_text().splitlines()]
    assert [(d["line"], d["duplicate_of_line"]) for d in dropped] == [(7, 2), (8, 4)]
    assert [r["text"] for r in loader] == [json.loads(a)["text"], json.loads(b)["text"]]


@pytest.mark.parametrize(
    ("bad", "match"),
    [("{not json", r"in\.jsonl:20001"), ("[1, 2]", r"in\.jsonl:20001: expected a JSON object")],
)
def test_a_bad_line_late_in_a_file_read_in_place_names_file_and_line(tmp_path, bad, match):
    src = tmp_path / "in.jsonl"
    lines = corpus_lines(20000, seed=3)
    lines = [x for x in lines if x][:20000]
    src.write_text("\n".join([*lines, bad, *lines[:5]]) + "\n")
    before = sha(src)
    loader = JSONLDatasetLoader().load(str(src))
    loader.filter(method=FilterMethod.EXACT_DEDUP, output_path=str(tmp_path / "o"))
    with pytest.raises(DataPrepError, match=match):
        loader.execute(executor="local")
    assert sha(src) == before
    assert not (tmp_path / "o" / "dropped.jsonl").exists()  # nothing half-written


def test_a_file_of_blank_lines_is_empty(tmp_path):
    src = tmp_path / "in.jsonl"
    src.write_text("\n\n  \n")
    with pytest.raises(DataPrepError):
        loader = JSONLDatasetLoader().load(str(src))
        loader.filter(method=FilterMethod.EXACT_DEDUP).execute()


def test_the_cpt_shortcut_drops_exactly_what_validate_rejects():
    from amzn_nova_forge.dataset._curation._chunk import _invalid_codes, record_problems
    from amzn_nova_forge.dataset._curation._params import build_step

    p = build_step(FilterMethod.INVALID_RECORDS, dict(INVALID)).params
    texts = ["fine text", "", " ", "\u2003\n", "\x1c", "x", 5, None, ["a"], " padded "]
    recs = [{"text": t} for t in texts] + [{"text": "ok", "extra": 1}, {"other": "x"}, {}, {"text": "a", "b": None}]
    want = [k for k, r in enumerate(recs) if record_problems(r, p)]
    assert _invalid_codes(recs, p) == want
    assert want == [1, 2, 3, 4, 6, 7, 8, 10, 11, 12, 13]
