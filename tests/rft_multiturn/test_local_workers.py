"""LOCAL RFT multiturn end to end: real worker processes consume SQS on a ThreadedMotoServer.

The test plays the trainer: it queues rollouts through the rollout Lambda's code (moto cannot
run Lambda code without Docker, so the handler is called in-process with the stack's
environment) and answers the workers' generate requests like the policy would.
"""

from __future__ import annotations

import json
import threading
import time

import boto3
import pytest

from amzn_nova_forge.errors import ConfigError
from amzn_nova_forge.rft_multiturn.handlers import rollout_handler

from .conftest import pid_alive, worker_pids


def _policy(
    stop: threading.Event, request_url: str, response_url: str, script: dict[str, list[str]], seen: list
) -> None:
    """Answer generate requests: the n-th assistant turn of a rollout gets script[rollout][n]."""
    sqs = boto3.client("sqs", region_name="us-east-1")
    while not stop.is_set():
        msgs = sqs.receive_message(QueueUrl=request_url, MaxNumberOfMessages=10, WaitTimeSeconds=1).get("Messages", [])
        for m in msgs:
            req = json.loads(m["Body"])
            seen.append(req)
            turn = sum(1 for x in req["messages"] if x["role"] == "assistant")
            answers = script[req["rollout_id"]]
            sqs.send_message(
                QueueUrl=response_url,
                MessageBody=json.dumps(
                    {"request_id": req["request_id"], "content": answers[min(turn, len(answers) - 1)]}
                ),
            )
            sqs.delete_message(QueueUrl=request_url, ReceiptHandle=m["ReceiptHandle"])


def _collect(url: str, n: int, timeout: float = 60.0) -> list[dict]:
    sqs = boto3.client("sqs", region_name="us-east-1")
    out: list[dict] = []
    deadline = time.monotonic() + timeout
    while len(out) < n and time.monotonic() < deadline:
        for m in sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1).get("Messages", []):
            out.append(json.loads(m["Body"]))
            sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
    return out


@pytest.mark.slow
@pytest.mark.timeout(180)
def test_spec_local_example_runs_real_workers(moto_server, home, monkeypatch, request) -> None:
    from amzn_nova_forge import CustomEnvironment, EnvType, RFTMultiturnInfrastructure, VFEnvId  # noqa: F401

    # Option 1: LOCAL with built-in environment (spec example, verbatim)
    rft_infra = RFTMultiturnInfrastructure(
        stack_name="my-rft-stack", region="us-east-1", python_venv_name="my_rft_venv", vf_env_id=VFEnvId.WORDLE
    )

    # Deploy infrastructure
    rft_infra.setup()

    # Start training environment
    rft_infra.start_training_environment()

    config = rft_infra.get_configuration()
    assert config["stack_name"] == "my-rft-stack-NovaForgeSDK" and config["platform"] == "local"
    out = config["stack_outputs"]
    assert (home / ".nova-forge/rft-workspace/my-rft-stack-NovaForgeSDK/my_rft_venv/bin/python").exists()
    request.addfinalizer(lambda: rft_infra.cleanup())  # never leave workers behind, even on failure
    pids = rft_infra.infra.running(EnvType.TRAIN)
    assert len(pids) == 1 and worker_pids(rft_infra.session_id, expect=1) == pids

    # The trainer's side: queue rollouts through the rollout Lambda's code ...
    monkeypatch.setenv("ROLLOUT_QUEUE_URL", out["rollout_request_queue_url"])
    monkeypatch.setenv("TASKS_TABLE", out["dynamo_table_name"])
    queued = rollout_handler.handler(
        {
            "rollouts": [
                {"rollout_id": "r-solve", "sample": {"answer": "crane"}},
                {"rollout_id": "r-fail", "sample": {"answer": "crane"}},
                {"rollout_id": "r-bad", "sample": {"answer": "toolongword"}},
            ]
        }
    )
    assert queued == {"queued": 3, "rollout_ids": ["r-solve", "r-fail", "r-bad"]}
    # ... and play the policy.
    stop, seen = threading.Event(), []
    script = {"r-solve": ["<guess>slate</guess>", "<guess>CRANE</guess>"], "r-fail": ["<guess>pious</guess>"]}
    policy = threading.Thread(
        target=_policy,
        args=(stop, out["generate_request_sqs_url"], out["generate_response_sqs_url"], script, seen),
        daemon=True,
    )
    policy.start()
    try:
        results = {r["rollout_id"]: r for r in _collect(out["rollout_response_sqs_url"], 3)}
    finally:
        stop.set()
        policy.join(timeout=10)
    assert set(results) == {"r-solve", "r-fail", "r-bad"}
    solved = results["r-solve"]
    assert solved["status"] == "ok" and solved["reward"] == pytest.approx(0.9)
    assert solved["metrics"] == {"solved": 1.0, "turns": 2, "invalid_guesses": 0}
    assert solved["messages"][3] == {"role": "user", "content": "SLATE: --G-G"}
    assert results["r-fail"]["metrics"]["turns"] == 6 and results["r-fail"]["reward"] == pytest.approx(0.0)
    assert results["r-bad"]["status"] == "error" and "5-letter" in results["r-bad"]["error"]
    assert all(r["worker_id"].startswith("my-rft-stack-") and r["env_id"] == "wordle" for r in results.values())
    assert {s["rollout_id"] for s in seen} == {"r-solve", "r-fail"}
    item = boto3.client("dynamodb", region_name="us-east-1").get_item(
        TableName=out["dynamo_table_name"], Key={"rollout_id": {"S": "r-solve"}}
    )["Item"]
    assert item["status"]["S"] == "done" and float(item["reward"]["N"]) == pytest.approx(0.9)

    logs = rft_infra.get_logs(limit=50)
    assert any("rollout r-solve finished status=ok" in line for line in logs)
    assert all(
        v.empty and (v["visible"], v.in_flight, v.delayed) == (0, 0, 0) for v in rft_infra.check_all_queues().values()
    )

    # Stop the workers: the processes are gone (reaped), nothing left behind.
    stopped = rft_infra.kill_task(EnvType.TRAIN)
    assert stopped == pids
    assert not any(pid_alive(p) for p in pids)
    assert worker_pids(rft_infra.session_id) == []
    assert any("stopped after 3 rollout(s)" in line for line in rft_infra.get_logs(limit=20))

    rft_infra.cleanup(delete_stack=True, cleanup_environment=True)
    assert not (home / ".nova-forge/rft-workspace/my-rft-stack-NovaForgeSDK").exists()
    from amzn_nova_forge import list_rft_stacks

    assert list_rft_stacks(region="us-east-1") == []


@pytest.mark.slow
@pytest.mark.timeout(180)
def test_reuse_requires_empty_queues_and_flush(moto_server, home, request) -> None:
    from amzn_nova_forge import EnvType, RFTMultiturnInfrastructure, VFEnvId

    first = RFTMultiturnInfrastructure(stack_name="reuse", python_venv_name="v", vf_env_id=VFEnvId.WORDLE)
    request.addfinalizer(lambda: first.cleanup())
    first.setup()
    out = first.get_configuration()["stack_outputs"]
    sqs = boto3.client("sqs", region_name="us-east-1")
    for url in (out["rollout_request_queue_url"], out["generate_response_sqs_url"]):
        sqs.send_message(QueueUrl=url, MessageBody="{}")
    counts = first.check_all_queues()
    assert counts["rollout_request"]["visible"] == 1 and counts["generate_response"]["visible"] == 1

    second = RFTMultiturnInfrastructure(stack_name="reuse", python_venv_name="v", vf_env_id=VFEnvId.WORDLE)
    with pytest.raises(ConfigError, match="queues are not empty: rollout_request .*flush_all_queues"):
        second.setup()
    assert second.flush_all_queues() == {
        "rollout_request": 1,
        "rollout_response": 0,
        "generate_request": 0,
        "generate_response": 1,
    }
    assert all(v["visible"] == 0 for v in second.check_all_queues().values())
    assert second.setup()["stack_outputs"] == out  # reused, same resources

    # Workers started by one session, stopped for the whole stack from another.
    pids = first.start_environment(EnvType.EVAL, {"max_turns": 2}, num_workers=2, max_concurrent_rollouts=1)
    assert len(pids) == 2 and sorted(worker_pids(first.session_id, expect=2)) == sorted(map(int, pids))
    assert second.kill_task(EnvType.EVAL) == []  # not this session's workers
    assert sorted(second.kill_task(EnvType.EVAL, kill_all_for_stack=True)) == sorted(map(int, pids))
    assert worker_pids(first.session_id) == []
    second.cleanup(delete_stack=True, cleanup_environment=True)


@pytest.mark.slow
@pytest.mark.timeout(180)
def test_local_custom_environment_worker_and_tail(moto_server, home, monkeypatch, request, capsys) -> None:
    from amzn_nova_forge import CustomEnvironment, EnvType, RFTMultiturnInfrastructure

    env = CustomEnvironment("math-env", output_dir=str(home / "envs")).create()
    infra = RFTMultiturnInfrastructure(stack_name="custom", python_venv_name="venv", custom_env=env)
    request.addfinalizer(lambda: infra.cleanup(delete_stack=True, cleanup_environment=True))
    infra.setup()
    out = infra.get_configuration()["stack_outputs"]
    infra.start_evaluation_environment(max_concurrent_rollouts=2)
    monkeypatch.setenv("ROLLOUT_QUEUE_URL", out["rollout_request_queue_url"])
    monkeypatch.setenv("TASKS_TABLE", out["dynamo_table_name"])
    rollout_handler.handler({"rollout_id": "m1", "sample": {"prompt": "2+3?", "answer": "5"}})
    stop, seen = threading.Event(), []
    policy = threading.Thread(
        target=_policy,
        args=(
            stop,
            out["generate_request_sqs_url"],
            out["generate_response_sqs_url"],
            {"m1": ["<answer>5</answer>"]},
            seen,
        ),
        daemon=True,
    )
    policy.start()
    try:
        [result] = _collect(out["rollout_response_sqs_url"], 1)
    finally:
        stop.set()
        policy.join(timeout=10)
    assert result["status"] == "ok" and result["reward"] == 1.0 and result["env_id"] == "math-env"
    assert seen[0]["messages"][1] == {"role": "user", "content": "2+3?"}
    # tail=True prints what is in the log, then follows it (bounded here by tail_timeout).
    assert infra.get_logs(EnvType.EVAL, tail=True, tail_timeout=1.0) == []
    assert "rollout m1 finished status=ok" in capsys.readouterr().out
    pids = infra.infra.running(EnvType.EVAL)
    infra.cleanup()
    assert pids and not any(pid_alive(p) for p in pids) and worker_pids(infra.session_id) == []
