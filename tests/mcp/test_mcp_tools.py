"""The MCP tools as plain Python (no MCP transport): confirmation tokens, bounds, typed errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from amzn_nova_forge.errors import ConfigError, DataPrepError, MissingDependencyError
from amzn_nova_forge.mcp import Confirmations, ForgeTools, _server


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


def test_token_confirms_exactly_the_planned_arguments() -> None:
    clock = Clock()
    c = Confirmations(ttl_s=60, clock=clock)
    args = {"job_name": "a", "overrides": {"lr": 1e-5, "max_steps": 3}}
    token = c.issue("train", args)
    c.check("train", dict(reversed(list(args.items()))), token)  # key order does not matter
    c.check("train", {**args, "confirm_token": token}, token)  # the token itself is not part of the plan
    for other_tool, other_args in (("evaluate", args), ("train", {**args, "job_name": "b"})):
        with pytest.raises(ConfigError, match="does not match these arguments"):
            c.check(other_tool, other_args, token)
    clock.now += 61
    with pytest.raises(ConfigError, match="expired"):
        c.check("train", args, token)


@pytest.mark.parametrize("token", ["", "x", "bm90LWEtdG9rZW4", "MTIzLmFiYw"])
def test_garbage_tokens_are_refused(token: str) -> None:
    with pytest.raises(ConfigError, match="Call train without confirm_token"):
        Confirmations().check("train", {}, token)


def test_a_token_from_another_server_is_refused() -> None:
    token = Confirmations().issue("deploy", {"training_job": "j"})
    with pytest.raises(ConfigError, match="does not match"):
        Confirmations().check("deploy", {"training_job": "j"}, token)


def test_ttl_must_be_positive() -> None:
    with pytest.raises(ConfigError, match="ttl_s"):
        Confirmations(ttl_s=0)


def test_list_options_is_json_and_complete() -> None:
    opts = ForgeTools().list_options()
    json.dumps(opts)
    assert {m["value"] for m in opts["training_methods"]} >= {"sft_lora", "dpo_full", "rft_lora", "cpt"}
    assert "GLUE" not in {p["name"] for p in opts["platforms"]}
    mmlu = next(t for t in opts["evaluation_tasks"] if t["name"] == "MMLU")
    assert mmlu == {"name": "MMLU", "value": "mmlu", "strategy": "zs_cot", "metric": "accuracy", "byod": False}


def test_recipe_keys_have_ranges_and_defaults() -> None:
    keys = ForgeTools().recipe_keys("NOVA_LITE_2", "SFT_LORA", "SMTJ")["keys"]
    assert keys["max_steps"]["default"] is not None and keys["max_steps"]["allowed"]


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"path": "data.txt"}, ConfigError, "Cannot tell the format"),
        ({"path": "missing.jsonl"}, DataPrepError, "missing.jsonl"),
        ({"max_problems": 0}, ConfigError, "max_problems must be between 1 and 1000"),
        ({"max_problems": 1001}, ConfigError, "max_problems"),
        ({"training_method": "sft_lorra"}, ConfigError, "Unknown training_method 'sft_lorra'"),
        ({"eval_task": "mmlux"}, ConfigError, "Unknown eval_task"),
    ],
)
def test_validate_dataset_bad_input(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, kwargs: dict[str, object], error: type[Exception], match: str
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "ok.jsonl").write_text('{"q": "a"}\n')
    call = {"path": "ok.jsonl", "model": "nova_lite_2", "training_method": "sft_lora", **kwargs}
    with pytest.raises(error, match=match):
        ForgeTools().validate_dataset(**call)  # type: ignore[arg-type]


def test_validate_dataset_reports_lines_and_paths(tmp_path: Path) -> None:
    data = tmp_path / "d.jsonl"
    ok = {
        "schemaVersion": "bedrock-conversation-2024",
        "messages": [{"role": "user", "content": [{"text": "hi"}]}, {"role": "assistant", "content": [{"text": "yo"}]}],
    }
    bad = {**ok, "messages": [{"role": "user", "content": [{"text": "hi"}]}]}
    data.write_text("\n".join(json.dumps(r) for r in [ok, bad, ok]) + "\n")
    out = ForgeTools().validate_dataset(str(data), "nova_lite_2", "sft_lora")
    assert out["valid"] is False and out["total_problems"] >= 1
    assert {p["line"] for p in out["problems"]} == {2}


def test_job_tools_name_the_missing_job(tmp_path: Path) -> None:
    tools = ForgeTools(results_dir=str(tmp_path))
    for call in (tools.job_status, tools.job_results):
        with pytest.raises(ConfigError, match=f"No job 'j-1'.*{tmp_path}"):
            call("j-1")
    with pytest.raises(ConfigError, match="limit must be between 1 and 5000"):
        tools.job_logs("j-1", limit=0)


@pytest.mark.parametrize("host", ["0.0.0.0", "10.0.0.1", "example.com", "::"])
def test_http_binds_loopback_only(host: str) -> None:
    with pytest.raises(ConfigError, match="loopback addresses only"):
        _server.serve("http", host=host, port=8765)


def test_bad_port_and_transport() -> None:
    with pytest.raises(ConfigError, match="port must be between"):
        _server.serve("http", port=0)
    with pytest.raises(ConfigError, match="transport must be"):
        _server.serve("websocket")  # type: ignore[arg-type]


def test_missing_mcp_sdk_says_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    monkeypatch.setitem(sys.modules, "mcp.server", None)
    with pytest.raises(MissingDependencyError, match=r"amzn-nova-forge\[mcp\]"):
        _server.build_server()


def test_sdk_errors_become_tool_errors_and_print_nothing_to_stdout(capsys: pytest.CaptureFixture[str]) -> None:
    class ToolError(Exception):
        pass

    def noisy() -> None:
        print("Validation succeeded")
        raise ConfigError("Unknown model 'x'")

    tool = _server._as_tool(noisy, ToolError)
    with pytest.raises(ToolError, match="^ConfigError: Unknown model 'x'$"):
        tool()
    captured = capsys.readouterr()
    assert captured.out == "" and "Validation succeeded" in captured.err
