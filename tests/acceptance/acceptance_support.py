"""Helpers and fixtures for the acceptance tests: the spec's placeholders made to exist in moto.

* ``notebook``: in-process moto with the caller signed in as an assumed SageMaker/Bedrock role of
  account 123456789012, the buckets the examples name, a work folder as the current directory and
  a "service" that does what SageMaker would do after ``CreateTrainingJob`` (moto completes jobs at
  once but writes nothing): the job's ``output.tar.gz`` (``manifest.json`` with the checkpoint, MMLU
  ``results_<ts>.json``) and its CloudWatch log stream in the container's line format.
* moto lacks ``iam:SimulatePrincipalPolicy``: that one call is answered by an event hook
  (``aws_support.allow_simulation``); everything else goes to moto.
"""

from __future__ import annotations

import copy
import json
import sys
import time
from pathlib import Path
from typing import Any

import boto3
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "manager"))
import aws_support as A

CHECKPOINT = "s3://customer-escrow-123456789012-smtj-abc123/{job}/step-100"
MMLU_RESULTS = {
    "config_general": {"model_name": "nova-lite/prod"},
    "results": {"mmlu|0": {"accuracy": 0.71, "accuracy_stderr": 0.04}, "all": {"accuracy": 0.71}},
}

INFERENCE_ROWS = [
    {
        "prompt": repr([{"role": "user", "content": "What is the capital of France?"}]),
        "inference": repr(["Paris"]),
        "gold": "Paris",
    },
    {"prompt": repr([{"role": "user", "content": "What is 2+2?"}]), "inference": repr(["4"]), "gold": "4"},
]


def log_lines(n: int = 20) -> list[str]:
    """Training lines in the SMTJ container format (what the log monitor parses)."""
    return [
        f"Epoch 0: : {i + 1}it [00:{i:02d}, reduced_train_loss={2.5 - i * 0.05:.3f}, global_step={i}.000, "
        f"consumed_samples={(i + 1) * 8}.0, train_step_timing in s=1.10]"
        for i in range(n)
    ]


def _write_outputs(job: str, output_path: str) -> None:
    members = {
        "manifest.json": json.dumps({"checkpoint_s3_bucket": CHECKPOINT.format(job=job)}).encode(),
        f"{job}/eval_results/results_2026-01-15T12-30-00.json": json.dumps(MMLU_RESULTS).encode(),
        f"{job}/tensorboard_results/eval/events.out.tfevents.1768480800.algo-1": b"tfevents",
        f"{job}/eval_results/inference_output.jsonl": "".join(json.dumps(r) + "\n" for r in INFERENCE_ROWS).encode(),
    }
    A.put(f"{output_path.rstrip('/')}/{job}/output/output.tar.gz", A.tar_gz(members))
    logs = A.plain_client("logs")
    group, stream = "/aws/sagemaker/TrainingJobs", f"{job}/algo-1-1768478400"
    try:
        logs.create_log_group(logGroupName=group)
    except logs.exceptions.ResourceAlreadyExistsException:
        pass
    logs.create_log_stream(logGroupName=group, logStreamName=stream)
    now = int(time.time() * 1000)
    logs.put_log_events(
        logGroupName=group,
        logStreamName=stream,
        logEvents=[{"timestamp": now + i, "message": m} for i, m in enumerate(log_lines())],
    )


def fill(snippet: str, placeholders: dict[str, str]) -> str:
    """Replace a documentation placeholder of a snippet (``(...)``) by the arguments it stands for.

    Used only where the spec's text cannot run as written (see docs/spec-coverage.md); each
    placeholder must occur in the snippet.
    """
    for old, new in placeholders.items():
        assert old in snippet, f"placeholder {old!r} is not in the snippet"
        snippet = snippet.replace(old, new)
    return snippet


def star(module: str = "amzn_nova_forge") -> dict[str, Any]:
    """A namespace after ``from <module> import *`` (what a notebook has after the first cell)."""
    ns: dict[str, Any] = {}
    exec(f"from {module} import *", ns)
    return ns


def simulate_sagemaker_service() -> list[dict[str, Any]]:
    """After each ``CreateTrainingJob`` of the SDK's client, write what the job would have written."""
    calls: list[dict[str, Any]] = []
    sm = A.sdk_client("sagemaker")

    def record(params: dict[str, Any], **_: Any) -> None:
        calls.append(copy.deepcopy(params))

    def after(http_response: Any = None, parsed: Any = None, **_: Any) -> None:
        if parsed and "TrainingJobArn" in parsed:
            p = calls[-1]
            _write_outputs(p["TrainingJobName"], p["OutputDataConfig"]["S3OutputPath"])

    sm.meta.events.register("provide-client-params.sagemaker.CreateTrainingJob", record)
    sm.meta.events.register("after-call.sagemaker.CreateTrainingJob", after)
    return calls


@pytest.fixture
def notebook(aws: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> dict[str, Any]:
    role = A.assume_role(monkeypatch)
    for bucket in (
        "my-bucket",
        "bucket",
        "your-bucket",
        "escrow-bucket",
        "input-bucket",
        "customer-escrow-123456789012-smtj-abc123",
    ):
        boto3.client("s3", region_name="us-east-1").create_bucket(Bucket=bucket)
    sims = A.allow_simulation()
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    monkeypatch.setenv("NOVA_FORGE_JOB_CACHE_DIR", str(tmp_path / ".cached-nova-jobs"))
    return {"role": role, "simulations": sims, "creates": simulate_sagemaker_service(), "work": work}


def redirect_absolute_dir(placeholder: str, target: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Send the SDK's writes under the absolute ``placeholder`` folder a snippet names to ``target``.

    The snippet still runs verbatim; the test neither creates folders at the filesystem root (nor
    needs the permission to) nor overwrites a real file there.
    """
    from amzn_nova_forge.core import storage

    real_open_write = storage.open_write

    def redirected(uri: Any, *args: Any, **kwargs: Any) -> Any:
        text = str(uri)
        if text == placeholder or text.startswith(placeholder.rstrip("/") + "/"):
            text = str(target) + text[len(placeholder.rstrip("/")) :]
        return real_open_write(text, *args, **kwargs)

    monkeypatch.setattr(storage, "open_write", redirected)
