"""service-classes.md ``trace_batch()`` example, verbatim, against moto.

What the example assumes is made to exist: ``infra`` (a HyperPod runtime; moto's DescribeCluster lacks
the restricted instance groups, so that one call is answered, and the HyperPod job seam records the job
instead of calling Kubernetes), ``s3://my-bucket/data.jsonl`` (CPT records), and — since no simulator
runs the training container — the batch hash logs the container would write for step 42.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from acceptance_support import A, redirect_absolute_dir, star

TRACE_EXAMPLE = """
trainer = ForgeTrainer(
    model=Model.NOVA_LITE_2,
    method=TrainingMethod.CPT,
    infra=infra,
    training_data_s3_path="s3://my-bucket/data.jsonl",
    enable_batch_sample_tracing=True,
)

result = trainer.train(job_name="my-cpt-job")

# After job completes, investigate step 42.
# Output writes to ./step_42_samples.jsonl by default.
matched_file = trainer.trace_batch(result, step=42)
if matched_file:
    print(f"Matched lines written to: {matched_file}")

# Explicit output path:
matched_file = trainer.trace_batch(result, step=42, output_path="/tmp/flagged.jsonl")
"""


@pytest.fixture
def hyperpod(notebook: dict[str, Any]) -> Any:
    from amzn_nova_forge.manager import _hyperpod_k8s as K

    A.stub_one(
        "sagemaker",
        "DescribeCluster",
        lambda p: {
            "ClusterArn": "arn:aws:sagemaker:us-east-1:123456789012:cluster/abc",
            "ClusterName": p["ClusterName"],
            "ClusterStatus": "InService",
            "CreationTime": "2026-01-01T00:00:00Z",
            "InstanceGroups": [],
            "RestrictedInstanceGroups": [
                {"InstanceGroupName": "rig", "InstanceType": "ml.p5.48xlarge", "CurrentCount": 4}
            ],
        },
    )

    class Recorder:
        def __init__(self) -> None:
            self.started: list[Any] = []

        def start(self, spec: Any) -> str:
            self.started.append(spec)
            return str(spec.job_name)

        def cancel(self, **_: Any) -> None:  # pragma: no cover - not used
            pass

        def status(self, **_: Any) -> dict[str, Any]:
            return {"raw": "Succeeded", "message": None, "started_at": None, "ended_at": None}

    rec = Recorder()
    previous = K.set_launcher(rec)
    yield rec
    K.set_launcher(previous)


def test_trace_batch_example(notebook: dict[str, Any], hyperpod: Any, tmp_path: Path, monkeypatch, capsys) -> None:
    from amzn_nova_forge.trainer.utils.batch_trace import fingerprint_record

    rows = [{"text": f"chapter {i} [DOC] notes {i}"} for i in range(60)]
    A.put("s3://my-bucket/data.jsonl", "".join(json.dumps(r) + "\n" for r in rows))
    redirect_absolute_dir("/tmp/flagged.jsonl", tmp_path / "flagged.jsonl", monkeypatch)

    ns = star()
    ns["infra"] = ns["SMHPRuntimeManager"](
        instance_type="ml.p5.48xlarge", instance_count=4, cluster_name="my-hp-cluster", namespace="kubeflow"
    )
    train_part, trace_part = TRACE_EXAMPLE.split("# After job completes")
    exec(train_part, ns)
    result = ns["result"]
    [spec] = hyperpod.started
    assert "enable_batch_sample_tracing: true" in spec.recipe_yaml
    # what the training container writes under <output>/<job id>/batch_tracing/ (two data-parallel ranks)
    out = result.model_artifacts.output_s3_path.rstrip("/")
    for rank, lines in ((0, [5, 17]), (1, [33])):
        body = json.dumps({"step": 42, "hashes": [fingerprint_record(rows[i]) for i in lines]}) + "\n"
        A.put(f"{out}/{result.job_id}/batch_tracing/batch_hashes_dp{rank}.jsonl", body)
    exec("# After job completes" + trace_part, ns)

    assert capsys.readouterr().out == "Matched lines written to: step_42_samples.jsonl\n"
    expected = [rows[5], rows[17], rows[33]]
    default = notebook["work"] / "step_42_samples.jsonl"
    assert [json.loads(x) for x in default.read_text().splitlines()] == expected
    assert [json.loads(x) for x in (tmp_path / "flagged.jsonl").read_text().splitlines()] == expected
