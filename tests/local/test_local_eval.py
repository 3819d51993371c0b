"""Evaluate, batch-infer, iterate and deploy the tiny SFT checkpoint through the customizer."""

from __future__ import annotations

import json
import tarfile
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from local_toy import Jobs

from amzn_nova_forge.core.enums import DeployPlatform, EvaluationTask, JobStatus, Model, TrainingMethod

pytestmark = pytest.mark.torch


@pytest.fixture(scope="module")
def followups(trained: Jobs) -> dict[str, Any]:
    """Start the follow-up jobs on the SFT LoRA checkpoint together, then wait for them."""
    from amzn_nova_forge.manager import LocalRuntimeManager
    from amzn_nova_forge.model import NovaModelCustomizer

    base = trained.results["sft_lora"]
    assert base.get_job_status()[0] is JobStatus.COMPLETED
    ckpt = base.model_artifacts.checkpoint_s3_path
    customizer = trained.customizers["sft_lora"]
    out: dict[str, Any] = {"ckpt": ckpt, "customizer": customizer}
    out["gen_qa"] = customizer.evaluate(
        job_name="eval-genqa", eval_task=EvaluationTask.GEN_QA, data_s3_path=trained.data["gen_qa"], model_path=ckpt
    )
    out["mmlu"] = customizer.evaluate(
        job_name="eval-mmlu", eval_task=EvaluationTask.MMLU, data_s3_path=trained.data["mcq"], job_result=base
    )
    out["batch_dir"] = trained.root / "batch-out"
    out["batch"] = customizer.batch_inference(
        job_name="batch", input_path=trained.data["gen_qa"], output_s3_path=str(out["batch_dir"]), model_path=ckpt
    )
    iterative = NovaModelCustomizer(
        model=Model.NOVA_MICRO,
        method=TrainingMethod.SFT_LORA,
        infra=LocalRuntimeManager(output_root=trained.root / "jobs", device="cpu", max_steps=2),
        data_s3_path=trained.data["sft"],
        output_s3_path=str(trained.root / "jobs"),
        model_path=ckpt,
    )
    out["iterative"] = iterative.train(job_name="iterative", overrides={"lr": 1e-3, "global_batch_size": 16})
    out["rft_eval"] = trained.customizers["rft_full"].evaluate(
        job_name="eval-rft",
        eval_task=EvaluationTask.RFT_EVAL,
        data_s3_path=trained.data["rft"],
        job_result=trained.results["rft_full"],
    )
    for key in ("gen_qa", "mmlu", "batch", "iterative", "rft_eval"):
        out[key].wait(poll_every=0.5, timeout=300)
    return out


def _ok(result: Any) -> Path:
    info = result.status()
    assert info.status is JobStatus.COMPLETED, info.message
    return Path(result.extras["job_dir"])


def test_gen_qa_evaluation_reports_real_metrics(followups: dict[str, Any]) -> None:
    result = followups["gen_qa"]
    job_dir = _ok(result)
    results = result.get()["results"]
    metrics = next(iter(results.values()))
    for key in ("em", "qem", "f1", "f1_quasi", "rouge1", "rouge2", "rougeL", "bleu"):
        assert 0.0 <= metrics[key] <= (100.0 if key == "bleu" else 1.0), key
    with tarfile.open(job_dir / "output" / "output.tar.gz") as tar:
        names = tar.getnames()
    assert any(n.endswith("inference_output.jsonl") for n in names)
    assert any(n.split("/")[-1].startswith("results_") for n in names)
    rows = [
        json.loads(x) for x in (job_dir / "output" / "eval_results" / "inference_output.jsonl").read_text().splitlines()
    ]
    assert len(rows) == 6 and rows[0]["gold"] == "The answer is 0." and rows[0]["metadata"] == "row0"


def test_multiple_choice_benchmark_on_user_questions(followups: dict[str, Any]) -> None:
    result = followups["mmlu"]
    _ok(result)
    metrics = next(iter(result.get()["results"].values()))
    assert 0.0 <= metrics["accuracy"] <= 1.0 and "accuracy_stderr" in metrics


def test_batch_inference_writes_inference_results(followups: dict[str, Any]) -> None:
    result = followups["batch"]
    _ok(result)
    lines = (followups["batch_dir"] / "inference_results.jsonl").read_text().splitlines()
    rows = [json.loads(x) for x in lines]
    assert len(rows) == 6
    assert set(rows[0]) == {"system", "query", "gold_response", "inference_response", "metadata"}
    assert rows[0]["query"] == "What is 0+0?" and rows[0]["gold_response"] == "The answer is 0."
    assert isinstance(rows[0]["inference_response"], str)
    records = result.get()["inference_results"]
    assert [r["query"] for r in records] == [r["query"] for r in rows]


def test_iterative_training_starts_from_the_previous_checkpoint(followups: dict[str, Any]) -> None:
    job_dir = _ok(followups["iterative"])
    log = (job_dir / "train.log").read_text()
    assert f"Loading model {followups['ckpt']}" in log
    meta = json.loads((job_dir / "checkpoints" / "final" / "nova_forge_checkpoint.json").read_text())
    assert meta["parent"]["job_id"] == Path(followups["ckpt"]).parents[1].name


def test_local_deployment_answers_openai_chat_requests(followups: dict[str, Any]) -> None:
    from amzn_nova_forge.manager import LocalRuntimeManager

    customizer = followups["customizer"]
    deployment = customizer.deploy(model_artifact_path=followups["ckpt"], deploy_platform=DeployPlatform.LOCAL)
    url = deployment.endpoint.uri
    try:
        assert url.startswith("http://127.0.0.1:")
        body = {"messages": [{"role": "user", "content": "What is 2+2?"}], "max_tokens": 8}
        req = urllib.request.Request(
            url + "/v1/chat/completions",
            data=json.dumps(body).encode(),
            # the deployment's bearer token (the server refuses requests without it)
            headers={"Content-Type": "application/json", "Authorization": f"Bearer {deployment.endpoint.api_key}"},
            method="POST",
        )
        with urllib.request.urlopen(req, timeout=60) as resp:
            data = json.loads(resp.read())
        assert data["object"] == "chat.completion" and data["choices"][0]["message"]["role"] == "assistant"
        assert data["usage"]["completion_tokens"] <= 8
        single = customizer.invoke_inference(
            request_body={
                "messages": [{"role": "user", "content": [{"text": "What is 1+1?"}]}],
                "inferenceConfig": {"maxTokens": 6},
            },
            endpoint_arn=url,
        )
        assert isinstance(single.text, str) and single.endpoint_arn.startswith(url)
    finally:
        assert LocalRuntimeManager.stop_deployment(url)


def test_rft_evaluation_scores_with_the_reward_function(followups: dict[str, Any]) -> None:
    result = followups["rft_eval"]
    _ok(result)
    metrics = next(iter(result.get()["results"].values()))
    assert 0.0 <= metrics["reward_score"] <= 1.0
