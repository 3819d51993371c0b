"""evaluate / batch_inference / get_logs on the local runtime (tiny offline model, CPU)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from amzn_nova_forge.core.enums import EvaluationTask, JobStatus, Model, TrainingMethod
from amzn_nova_forge.model import NovaModelCustomizer
from amzn_nova_forge.model.result import BaseJobResult, LocalBatchInferenceResult, LocalEvaluationResult

pytestmark = [pytest.mark.torch, pytest.mark.slow]


def test_local_evaluate_batch_and_logs(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("torch")
    from amzn_nova_forge.manager import LocalRuntimeManager

    data = tmp_path / "gen_qa.jsonl"
    rows = [{"query": f"What is {i}+{i}?", "response": str(2 * i), "system": "Answer briefly."} for i in range(4)]
    data.write_text("".join(json.dumps(r) + "\n" for r in rows))
    infra = LocalRuntimeManager(output_root=str(tmp_path / "jobs"), device="cpu", max_new_tokens=4)
    customizer = NovaModelCustomizer(
        model=Model.NOVA_MICRO,
        method=TrainingMethod.SFT_LORA,
        infra=infra,
        data_s3_path=str(data),
        output_s3_path=str(tmp_path / "jobs"),
    )
    ev = customizer.evaluate(job_name="local-eval", eval_task=EvaluationTask.GEN_QA, data_s3_path=str(data))
    assert isinstance(ev, LocalEvaluationResult)
    assert ev.eval_output_path == str(Path(ev.extras["job_dir"]) / "output" / "output.tar.gz")
    assert ev.wait(poll_every=0.5, timeout=300).status is JobStatus.COMPLETED
    metrics = ev.get()["results"]["custom|gen_qa_gen_qa|0"]
    assert {"rouge1", "bleu", "em"} <= set(metrics)
    again = BaseJobResult.load(str(ev.dump(file_path=str(tmp_path))))
    assert again.get()["results"] == ev.get()["results"]

    capsys.readouterr()
    customizer.get_logs(limit=50, start_from_head=True)
    assert "Generated 4 responses." in capsys.readouterr().out

    bi = customizer.batch_inference(job_name="local-batch", input_path=str(data), output_s3_path=str(tmp_path / "jobs"))
    assert isinstance(bi, LocalBatchInferenceResult)
    assert bi.wait(poll_every=0.5, timeout=300).status is JobStatus.COMPLETED
    out = tmp_path / "formatted.jsonl"
    records = bi.get(str(out))["inference_results"]
    assert [r["query"] for r in records] == [r["query"] for r in rows]
    assert [r["gold_response"] for r in records] == [r["response"] for r in rows]
    assert all(r["system"] == "Answer briefly." and isinstance(r["inference_response"], str) for r in records)
    assert len(out.read_text().splitlines()) == 4
