"""The MCP server driven by the official ``mcp`` client over stdio, with AWS simulated by moto.

The server runs as ``python -m amzn_nova_forge mcp`` in a subprocess; its only AWS is a
``ThreadedMotoServer`` on 127.0.0.1 (``AWS_ENDPOINT_URL``). moto has no
``iam:SimulatePrincipalPolicy``, and a stub cannot reach into the server process, so the
IAM pre-flight check is turned off in the calls (``check_iam=False``).
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("mcp")

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "manager"))
import aws_support as A

from amzn_nova_forge.dataset import sample_path
from amzn_nova_forge.mcp import TOOL_NAMES

SRC = str(Path(__file__).resolve().parents[2] / "src")


def _payload(result: Any) -> dict[str, Any]:
    assert not result.is_error, result.content
    if result.structured_content is not None:
        data = result.structured_content
        return dict(data.get("result", data)) if isinstance(data, dict) else data
    return json.loads(result.content[0].text)


def _error(result: Any) -> str:
    assert result.is_error, result
    return str(result.content[0].text)


async def _session(results_dir: Path, script: Any) -> Any:
    from mcp import Client
    from mcp.client.stdio import StdioServerParameters

    env = {**os.environ, "PYTHONPATH": SRC + os.pathsep + os.environ.get("PYTHONPATH", "")}
    params = StdioServerParameters(
        command=sys.executable,
        args=["-m", "amzn_nova_forge", "mcp", "--results-dir", str(results_dir)],
        env=env,
    )
    async with Client(params, read_timeout_seconds=120) as client:
        return await script(client)


@pytest.fixture
def aws_account(moto_server: str, monkeypatch: pytest.MonkeyPatch) -> str:
    role = A.assume_role(monkeypatch)
    A.put("s3://my-bucket/data/train.jsonl", A.SFT_JSONL)
    return role


def test_lists_tools_validates_dry_runs_trains_and_reads_status(aws_account: str, tmp_path: Path) -> None:
    async def script(client: Any) -> dict[str, Any]:
        out: dict[str, Any] = {}
        tools = await client.list_tools()
        out["tools"] = {t.name: t for t in tools.tools}
        out["options"] = _payload(await client.call_tool("list_options", {}))
        out["valid"] = _payload(
            await client.call_tool(
                "validate_dataset",
                {
                    "path": sample_path("qa"),
                    "model": "nova_lite_2",
                    "training_method": "sft_lora",
                    "column_mappings": {"question": "question", "answer": "answer"},
                },
            )
        )
        out["invalid"] = _payload(
            await client.call_tool(
                "validate_dataset",
                {"path": sample_path("qa"), "model": "nova_lite_2", "training_method": "sft_lora", "max_problems": 3},
            )
        )
        args = {
            "model": "nova_micro",
            "method": "sft_lora",
            "job_name": "mcp-job",
            "data_path": "s3://my-bucket/data/",
            "output_path": "s3://my-bucket/out/",
            "platform": "SMTJ",
            "instance_type": "ml.p5.48xlarge",
            "instance_count": 2,
            "overrides": {"max_epochs": 2},
            "check_iam": False,
        }
        out["plan"] = _payload(await client.call_tool("train", args))
        token = out["plan"]["confirm_token"]
        out["tampered"] = _error(await client.call_tool("train", {**args, "instance_count": 4, "confirm_token": token}))
        out["bad_token"] = _error(await client.call_tool("train", {**args, "confirm_token": "x"}))
        out["started"] = _payload(await client.call_tool("train", {**args, "confirm_token": token}))
        out["status"] = _payload(await client.call_tool("job_status", {"job": out["started"]["job_id"]}))
        out["bad_model"] = _error(await client.call_tool("recipe_keys", {"model": "nova_mega", "method": "sft_lora"}))
        out["bad_override"] = _error(await client.call_tool("train", {**args, "overrides": {"max_epochz": 2}}))
        out["no_job"] = _error(await client.call_tool("job_status", {"job": "nope"}))
        return out

    out = asyncio.run(_session(tmp_path / "results", script))

    assert set(out["tools"]) == set(TOOL_NAMES)
    assert out["tools"]["train"].annotations.read_only_hint is False
    assert out["tools"]["job_status"].annotations.read_only_hint is True
    assert "confirm_token" in out["tools"]["train"].input_schema["properties"]
    assert "NOVA_LITE_2" in [m["name"] for m in out["options"]["models"]]
    assert out["valid"] == {"valid": True, "total_problems": 0, "problems": []}
    assert out["invalid"]["valid"] is False and out["invalid"]["total_problems"] > 3
    assert len(out["invalid"]["problems"]) == 3 and out["invalid"]["problems"][0]["line"] == 1

    plan = out["plan"]
    assert plan["status"] == "planned" and plan["plan"]["billed"] is True
    assert "max_epochs: 2" in plan["plan"]["recipe"]
    assert "does not match these arguments" in out["tampered"]
    assert "not a token this server issued" in out["bad_token"]

    started = out["started"]
    assert started["status"] == "started" and started["job_id"].startswith("mcp-job")
    assert Path(started["result_path"]).parent == tmp_path / "results"
    import boto3

    job = boto3.client("sagemaker", region_name="us-east-1").describe_training_job(TrainingJobName=started["job_id"])
    assert job["ResourceConfig"]["InstanceCount"] == 2  # the confirmed plan, not the tampered one
    jobs = boto3.client("sagemaker", region_name="us-east-1").list_training_jobs()["TrainingJobSummaries"]
    assert len(jobs) == 1  # the dry run and the refused calls started nothing
    assert out["status"]["job_id"] == started["job_id"] and out["status"]["status"] == "COMPLETED"

    assert "ConfigError: Unknown model 'nova_mega'" in out["bad_model"]
    assert "RecipeOverrideError" in out["bad_override"] and "max_epochs" in out["bad_override"]
    assert "No job 'nope'" in out["no_job"]
