"""``nova-forge demo``: the README's first command, offline on a tiny model built on the spot.

The demo must prove learning: held-out exact match near 0 before training and at least 0.8
after, written to ``summary.json``.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from amzn_nova_forge.cli._demo_task import PROMPT, make_task, write_task


def test_task_rows_follow_the_rule_and_held_out_words_are_unseen() -> None:
    train, held_out = make_task(640, 64)
    assert len(train) == 640 and len(held_out) == 64
    for r in train:
        word = r["question"].removeprefix(PROMPT.format(word=""))
        assert len(word) == 4 and word.islower() and r["answer"] == word.upper()
    assert {r["query"] for r in held_out}.isdisjoint(r["question"] for r in train)
    assert len({r["question"] for r in train}) == 640  # no duplicates
    assert make_task(5, 2, seed=3) == make_task(5, 2, seed=3) != make_task(5, 2, seed=4)


def test_task_rejects_impossible_sizes(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="must be >= 1"):
        make_task(0, 5)
    with pytest.raises(ValueError, match="distinct"):
        make_task(300_000, 1)
    raw, held = write_task(tmp_path, 3, 2)
    assert [json.loads(x)["answer"] for x in raw.read_text().splitlines()] == [r["answer"] for r in make_task(3, 2)[0]]
    assert sorted(json.loads(held.read_text().splitlines()[0])) == ["query", "response"]


@pytest.mark.torch
@pytest.mark.slow
def test_demo_learns_the_task_offline(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    pytest.importorskip("torch")
    pytest.importorskip("peft")
    monkeypatch.setenv("NOVA_FORGE_LOCAL_JOBS_DIR", str(tmp_path / "default-jobs"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    from amzn_nova_forge.cli._main import main
    from amzn_nova_forge.core.enums import JobStatus
    from amzn_nova_forge.model.result import BaseJobResult

    out_dir = tmp_path / "demo"
    rc = main(["demo", "--output-dir", str(out_dir), "--device", "cpu"])
    out = capsys.readouterr().out
    assert rc == 0, out
    summary = json.loads((out_dir / "summary.json").read_text())
    assert summary["metric"] == "em"
    assert summary["before"] <= 0.1, summary
    assert summary["after"] >= 0.8, summary
    assert 0 < summary["seconds"] < 600
    assert summary["loss_last"] < summary["loss_first"] / 4
    assert "TINY DEMO MODEL" in out and "held-out exact match: 0.0" in out and "Done in" in out
    assert (out_dir / "loss_curve.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    rows = [json.loads(x) for x in (out_dir / "batch-inference" / "inference_results.jsonl").read_text().splitlines()]
    assert len(rows) == 64
    right = sum(r["inference_response"] == r["gold_response"] for r in rows)
    assert right / len(rows) == pytest.approx(summary["after"])  # batch inference agrees with the evaluation
    saved = next(out_dir.glob("demo-sft-full-*_LOCAL.json"))
    assert BaseJobResult.load(str(saved)).get_job_status()[0] is JobStatus.COMPLETED
