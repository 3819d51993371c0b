"""Each filter's behaviour through ``loader.filter(...).execute()``: what is kept, what is
dropped and why (the side file), the counts, and the source left untouched."""

from __future__ import annotations

import json
from pathlib import Path

import orjson
import pytest

from amzn_nova_forge.core.enums import FilterMethod, Model, Platform, TrainingMethod
from amzn_nova_forge.dataset import JSONLDatasetLoader
from tests.curation.conftest import random_docs, sha

LONG = "The quick brown fox jumps over the lazy dog while the cat sleeps on the warm mat today."


def _dropped(loader: JSONLDatasetLoader, step: int = 0) -> list[dict]:
    path = loader.last_curation.steps[step].dropped_path
    return [json.loads(x) for x in Path(path).read_text().splitlines()]


def test_default_text_filter_each_rule_names_its_reason(jsonl, tmp_path):
    records = [
        {"text": LONG},  # kept
        {"text": "too short"},
        {"text": "see https://example.com/" + "a" * 80 + " for " + "more words here " * 2},
        {"text": "!!!! ???? .... ---- " * 5},
        {"text": "\n".join(["word"] * 20)},
        {"text": "CafÃ© rÃ©sumÃ© naÃ¯ve dÃ©jÃ  vu Ã  la carte Ã©tÃ© " * 2},
        {"text": ("one two three four five six seven eight nine ten " * 4).strip()},
        {"text": "x" * 100},
    ]
    src = jsonl(records)
    before = sha(src)
    loader = JSONLDatasetLoader().load(str(src))
    loader.filter(method=FilterMethod.DEFAULT_TEXT_FILTER, output_path=str(tmp_path / "out")).execute()
    assert [r["text"] for r in loader] == [LONG]
    reasons = [d["reason"].split(":")[0] for d in _dropped(loader)]
    assert reasons == [
        "too_short",
        "url_ratio",
        "alnum_ratio",
        "avg_line_length",
        "mojibake",
        "word_repetition",
        "char_repetition",
    ]
    step = loader.last_curation.steps[0]
    assert (step.total_count, step.filtered_count, step.kept_count) == (8, 7, 1)
    assert step.reasons["url_ratio"] == 1
    summary = json.loads((tmp_path / "out" / "_summary.json").read_text())
    assert summary["input_count"] == 8 and summary["num_filtered"] == 7
    assert [json.loads(x) for x in (tmp_path / "out" / "part-00000.jsonl").read_text().splitlines()] == [records[0]]
    assert sha(src) == before


def test_text_filter_thresholds_come_from_kwargs_and_extra_args(jsonl):
    src = jsonl([{"text": "short but fine"}])
    loader = JSONLDatasetLoader().load(str(src))
    loader.filter(method=FilterMethod.DEFAULT_TEXT_FILTER, extra_args={"min_chars": 5}).execute()
    assert len(loader) == 1
    loader.filter(method=FilterMethod.DEFAULT_TEXT_FILTER, min_chars=100).execute()
    assert len(loader) == 0


def test_exact_dedup_normalises_whitespace_and_keeps_the_first(jsonl):
    src = jsonl(
        [
            {"id": 1, "text": "Hello   world\n"},
            {"id": 2, "text": "other"},
            {"id": 3, "text": "Hello world"},
            {"id": 4, "text": "HELLO WORLD"},
        ]
    )
    loader = JSONLDatasetLoader().load(str(src))
    loader.filter(method=FilterMethod.EXACT_DEDUP).execute()
    assert [r["id"] for r in loader] == [1, 2, 4]
    (d,) = _dropped(loader)
    assert d["record"]["id"] == 3 and d["duplicate_of_line"] == 1
    loader.filter(method=FilterMethod.EXACT_DEDUP, lowercase=True).execute()
    assert [r["id"] for r in loader] == [1, 2]
    assert loader.last_curation.steps[0].filtered_count == 1


def test_fuzzy_dedup_drops_near_duplicates_keeps_first_in_input_order(jsonl):
    docs = random_docs(300, seed=3)
    near = docs[10].split()
    near[5] = "zzzzzz"  # one word of 30 replaced
    recs = [{"id": i, "text": t} for i, t in enumerate(docs)]
    recs.insert(4, {"id": "near-of-10", "text": " ".join(near)})  # comes BEFORE its source
    src = jsonl(recs)
    loader = JSONLDatasetLoader().load(str(src))
    loader.filter(method=FilterMethod.FUZZY_DEDUP, threshold=0.8, shingle="word", ngram_size=3).execute()
    ids = [r["id"] for r in loader]
    assert "near-of-10" in ids and 10 not in ids  # the first of the pair is kept
    assert len(ids) == 300
    (d,) = _dropped(loader)
    assert d["record"]["id"] == 10 and d["duplicate_of_line"] == 5
    assert "threshold 0.8" in d["reason"]


def test_fuzzy_dedup_groups_chains_onto_the_kept_record(jsonl):
    base = random_docs(1, seed=9)[0]
    recs = [{"id": k, "text": base + " tail" * (k % 2)} for k in range(5)]
    src = jsonl(recs + [{"id": "other", "text": random_docs(1, seed=10)[0]}])
    loader = JSONLDatasetLoader().load(str(src))
    loader.filter(method=FilterMethod.FUZZY_DEDUP, ngram_size=5).execute()
    assert [r["id"] for r in loader] == [0, "other"]
    assert {d["duplicate_of_line"] for d in _dropped(loader)} == {1}


def test_language_detection_keeps_allowed_languages_offline(jsonl):
    src = jsonl(
        [
            {"text": "This is an English sentence about the weather and the sea."},
            {"text": "Ceci est une phrase française sur le temps et la mer."},
            {"text": "Dies ist ein deutscher Satz über das Wetter und das Meer."},
            {"text": "   "},
        ]
    )
    loader = JSONLDatasetLoader().load(str(src))
    loader.filter(method=FilterMethod.LANGUAGE_DETECTION, languages=["en", "FR"], min_score=0.5).execute()
    assert [r["text"][:4] for r in loader] == ["This", "Ceci"]
    reasons = [d["reason"] for d in _dropped(loader)]
    assert reasons[0].startswith("language_not_allowed: detected 'de'")
    assert reasons[1].startswith("undetected")
    loader2 = JSONLDatasetLoader().load(str(src))
    loader2.filter(method=FilterMethod.LANGUAGE_DETECTION, languages=["en"], keep_undetected=True).execute()
    assert len(loader2) == 2


def test_invalid_records_drops_what_validate_rejects_with_reasons(jsonl):
    src = jsonl([{"text": "good one"}, {"text": ""}, {"text": "x", "extra": 1}, {"text": "fine too"}])
    loader = JSONLDatasetLoader().load(str(src))
    loader.filter(
        method=FilterMethod.INVALID_RECORDS,
        training_method=TrainingMethod.CPT,
        model=Model.NOVA_LITE_2,
        platform=Platform.SMTJ,
    ).execute()
    assert [r["text"] for r in loader] == ["good one", "fine too"]
    dropped = _dropped(loader)
    assert [d["line"] for d in dropped] == [2, 3]
    assert dropped[0]["reason"] == "$.text: must be a non-blank string"
    assert "unknown fields ['extra']" in dropped[1]["reason"]
    assert dropped[1]["record"] == {"text": "x", "extra": 1}  # nothing lost
    loader.validate(TrainingMethod.CPT, Model.NOVA_LITE_2)  # what is left now validates


def test_invalid_records_after_transform_in_queue_order(jsonl):
    src = jsonl(
        [
            {"q": "What is 2+2?", "a": "4"},
            {"q": "What is 2+2?", "a": "4"},
            {"q": "User: hi", "a": "hello"},  # reserved word: invalid for SFT
        ]
    )
    loader = JSONLDatasetLoader(question="q", answer="a").load(str(src))
    loader.filter(method=FilterMethod.EXACT_DEDUP, text_field="q")
    loader.transform(TrainingMethod.SFT_LORA, Model.NOVA_LITE_2)  # runs the queued dedup first
    assert loader.last_curation.steps[0].filtered_count == 1
    loader.filter(
        method=FilterMethod.INVALID_RECORDS,
        training_method=TrainingMethod.SFT_LORA,
        model=Model.NOVA_LITE_2,
        platform=Platform.SMTJ,
    ).execute()
    recs = list(loader)
    assert len(recs) == 1 and recs[0]["messages"][0]["content"][0]["text"] == "What is 2+2?"
    assert "reserved" in _dropped(loader)[0]["reason"].lower()


def test_chained_filters_report_each_step_and_run_implicitly_on_save(jsonl, tmp_path):
    docs = random_docs(50, seed=1)
    recs = [{"text": t} for t in docs] + [{"text": docs[0]}, {"text": "tiny"}]
    src = jsonl(recs)
    loader = JSONLDatasetLoader().load(str(src))
    loader.filter(method=FilterMethod.DEFAULT_TEXT_FILTER).filter(method=FilterMethod.EXACT_DEDUP)
    out = loader.save_data(str(tmp_path / "clean.jsonl"))  # the queue runs before the save
    assert len(Path(out).read_text().splitlines()) == 50
    steps = loader.last_curation.steps
    assert [(s.method, s.total_count, s.filtered_count) for s in steps] == [
        ("default_text_filter", 52, 1),
        ("exact_dedup_filter", 51, 1),
    ]
    assert "52 records → 50 kept" in str(loader.last_curation)


def test_default_output_dirs_follow_the_official_layout(jsonl, tmp_path):
    src = jsonl([{"text": LONG}, {"text": LONG}], name="corpus.v1.jsonl")
    loader = JSONLDatasetLoader().load(str(src))
    loader.filter(method=FilterMethod.EXACT_DEDUP).execute()
    out = Path(loader.last_curation.steps[0].output_state)
    assert out.parent.parent == tmp_path / "corpus" and out.name == "exact_dedup_filter_output"
    assert json.loads((out / "_summary.json").read_text())["duplicates_removed"] == 1


def test_local_executor_keeps_exactly_what_serial_keeps(jsonl):
    docs = random_docs(2500, seed=4)
    recs = [{"id": i, "text": t} for i, t in enumerate(docs)]
    recs += [{"id": f"d{i}", "text": docs[i * 7]} for i in range(40)]
    src = jsonl(recs)
    kept = {}
    for ex in ("serial", "local"):
        loader = JSONLDatasetLoader().load(str(src))
        loader.filter(method=FilterMethod.EXACT_DEDUP).filter(
            method=FilterMethod.FUZZY_DEDUP, shingle="word", ngram_size=5, num_perm=64
        ).execute(executor=ex)
        kept[ex] = [r["id"] for r in loader]
        assert loader.last_curation.executor == ex
    assert kept["serial"] == kept["local"]
    assert len(kept["local"]) == 2500


def test_operation_classes_run_the_same_filter(jsonl):
    from amzn_nova_forge.dataset.operations import FilterOperationResult, get_filter_operation
    from amzn_nova_forge.dataset.operations.exact_dedup_filter_operation import ExactDedupFilterOperation

    src = jsonl([{"text": "a b"}, {"text": "a  b"}])
    loader = JSONLDatasetLoader().load(str(src))
    op = get_filter_operation(FilterMethod.EXACT_DEDUP)
    assert isinstance(op, ExactDedupFilterOperation)
    res = op.execute(loader, text_field="text")
    assert isinstance(res, FilterOperationResult)
    assert (res.total_count, res.filtered_count, str(res)) == (2, 1, "2 records → 1 kept, 1 dropped")
    assert res.to_dict()["status"] == "SUCCEEDED"


def test_records_built_in_memory_and_the_side_file_holds_raw_records(tmp_path):
    loader = JSONLDatasetLoader.from_records([{"text": "x y", "n": [1, 2]}, {"text": "x y", "n": {"k": None}}])
    loader.filter(method=FilterMethod.EXACT_DEDUP, output_path=str(tmp_path / "o")).execute()
    line = (tmp_path / "o" / "dropped.jsonl").read_bytes()
    assert orjson.loads(line)["record"] == {"text": "x y", "n": {"k": None}}


@pytest.mark.parametrize("method", list(FilterMethod))
def test_every_filter_leaves_the_source_file_unchanged(jsonl, method):
    extra = {
        FilterMethod.LANGUAGE_DETECTION: {"languages": ["en"]},
        FilterMethod.INVALID_RECORDS: {
            "training_method": TrainingMethod.CPT,
            "model": Model.NOVA_LITE_2,
            "platform": Platform.SMTJ,
        },
    }.get(method, {})
    src = jsonl([{"text": LONG}, {"text": LONG}, {"text": "no"}])
    before = sha(src)
    loader = JSONLDatasetLoader().load(str(src))
    loader.filter(method=method, **extra).execute()
    assert sha(src) == before
    assert loader.last_curation.steps[0].total_count == 3
