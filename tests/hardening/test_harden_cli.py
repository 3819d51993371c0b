"""The CLI under hostile files: every command × every malformed file exits non-zero with one line.

Also: ``--version``, ``completion bash|zsh``, exit codes in ``--help``, ``--json`` output that
parses, the dry-run recipe path, exit code 3 for a failed job, and ``--debug`` showing the traceback.
"""

from __future__ import annotations

import gzip
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from amzn_nova_forge.cli._main import main

_BOMB = "".join(
    [f"a0: &a0 [{','.join(['lol'] * 9)}]\n"] + [f"a{i}: &a{i} [{','.join([f'*a{i - 1}'] * 9)}]\n" for i in range(1, 9)]
)

#: name -> content; ``None`` makes a folder of that name.
MALFORMED: dict[str, bytes | None] = {
    "empty": b"",
    "whitespace": b"  \n\n\t",
    "not_utf8": b'{"job_id": "\xff\xfe\xfd"}',
    "utf16": json.dumps({"job_id": "x", "platform": "SMTJ"}).encode("utf-16"),
    "list": b"[1, 2]",
    "null": b"null",
    "deep": b"[" * 100_000 + b"]" * 100_000,
    "alias_bomb": _BOMB.encode(),
    "python_tag": b"a: !!python/object/apply:os.system ['echo pwned']\n",
    "truncated": b'{"job_id": "x", "platform": "SM',
    "folder": None,
    "wrong_types": b'{"job_id": 5, "platform": [], "extras": "x"}',
    "gzip": gzip.compress(b'{"job_id": "x"}'),
    "nan": b'{"job_id": "x", "platform": "SMTJ", "region": NaN}',
    "unknown_platform": b'{"__class_name__": "SMTJTrainingResult", "job_id": "x", "platform": "MARS"}',
    "binary": bytes(range(256)),
}

_TRAIN_FLAGS = [
    "--model",
    "NOVA_LITE_2",
    "--method",
    "sft_lora",
    "--job-name",
    "j",
    "--platform",
    "SMTJ",
    "--instance-type",
    "ml.p5.48xlarge",
    "--instance-count",
    "4",
    "--data",
    "s3://b/d.jsonl",
    "--output",
    "s3://b/o",
    "--dry-run",
    "--no-iam-check",
    "--no-infra-check",
]

#: name -> argv with ``{f}`` for the malformed file.
COMMANDS: dict[str, list[str]] = {
    "status": ["status", "{f}"],
    "status_json": ["status", "{f}", "--json"],
    "logs": ["logs", "{f}"],
    "logs_json": ["logs", "{f}", "--json"],
    "plot": ["plot", "{f}"],
    "results": ["results", "{f}"],
    "results_json": ["results", "{f}", "--json"],
    "deploy": ["deploy", "--training-result", "{f}", "--no-wait"],
    "invoke_saved": ["invoke", "{f}", "--message", "hi"],
    "train_config": ["train", "--config", "{f}"],
    "train_recipe": ["train", *_TRAIN_FLAGS, "--recipe", "{f}"],
    "recipe_validate": ["recipe", "validate", "{f}", "--method", "sft_lora"],
    "recipe_validate_auto": ["recipe", "validate", "{f}"],
    "recipe_show": ["recipe", "show", "--model", "NOVA_LITE_2", "--method", "sft_lora", "--recipe-path", "{f}"],
}


def _make(tmp_path: Path, name: str) -> Path:
    path = tmp_path / f"{name}_SMTJ.json"
    content = MALFORMED[name]
    if content is None:
        path.mkdir()
    else:
        path.write_bytes(content)
    return path


def _one_line_error(err: str) -> str:
    lines = [line for line in err.splitlines() if line.strip()]
    assert "Traceback" not in err, err
    assert len(lines) == 1, err
    assert lines[0].startswith("error: "), lines[0]
    return lines[0]


@pytest.mark.parametrize("command", sorted(COMMANDS))
@pytest.mark.parametrize("name", sorted(MALFORMED))
def test_every_command_on_every_malformed_file_fails_in_one_line(
    command: str, name: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    path = _make(tmp_path, name)
    argv = [a.replace("{f}", str(path)) for a in COMMANDS[command]]
    rc = main(argv)
    out, err = capsys.readouterr()
    assert rc not in (0, None), (rc, out, err)
    _one_line_error(err)


@pytest.mark.parametrize("name", ["empty", "list", "alias_bomb", "python_tag", "folder"])
def test_invoke_body_from_a_malformed_file(
    name: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    path = _make(tmp_path, name)
    rc = main(["invoke", "http://127.0.0.1:9", "--body", f"@{path}"])
    assert rc == 1
    assert "--body" in _one_line_error(capsys.readouterr().err)


def _cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    return subprocess.run(
        [sys.executable, "-m", "amzn_nova_forge", *args], capture_output=True, text=True, cwd=cwd, env=env, timeout=120
    )


@pytest.mark.parametrize(
    ("command", "name"),
    [("status", "deep"), ("recipe_validate", "alias_bomb"), ("train_config", "python_tag"), ("results", "not_utf8")],
)
def test_real_process_prints_one_line_and_no_traceback(command: str, name: str, tmp_path: Path) -> None:
    path = _make(tmp_path, name)
    proc = _cli(*[a.replace("{f}", str(path)) for a in COMMANDS[command]], cwd=tmp_path)
    assert proc.returncode == 1, proc
    assert str(path) in _one_line_error(proc.stderr)


def test_debug_shows_the_traceback(tmp_path: Path) -> None:
    path = _make(tmp_path, "list")
    proc = _cli("--debug", "status", str(path), cwd=tmp_path)
    assert proc.returncode == 1 and "Traceback" in proc.stderr and "ConfigError" in proc.stderr


def test_debug_after_the_command_shows_the_traceback_too(tmp_path: Path) -> None:
    path = _make(tmp_path, "list")
    with pytest.raises(Exception, match="not a saved job result"):
        main(["status", str(path), "--debug"])
    with pytest.raises(Exception, match="must hold a YAML mapping"):
        main(["recipe", "validate", str(path), "--method", "sft_lora", "--debug"])


def test_an_unexpected_exception_is_one_line_pointing_at_debug(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from amzn_nova_forge.cli import _recipe

    def boom(args: object) -> int:
        raise KeyError("surprise\nsecond line")

    monkeypatch.setattr(_recipe, "_list", boom)
    assert main(["recipe", "list"]) == 1
    line = _one_line_error(capsys.readouterr().err)
    assert line.startswith("error: KeyError: ") and line.endswith("(run with --debug for the traceback)")


# ---------------------------------------------------------------- version, help, completion
def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    from amzn_nova_forge import __version__

    with pytest.raises(SystemExit) as e:
        main(["--version"])
    assert e.value.code == 0 and capsys.readouterr().out.strip() == f"nova-forge {__version__}"


def test_help_documents_the_exit_codes(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["--help"])
    out = capsys.readouterr().out
    assert "exit codes:" in out
    for code in ("0 ", "1 ", "2 ", "3 ", "130"):
        assert f"  {code}" in out
    assert "failed or stopped" in out and "completion" in out


@pytest.mark.parametrize("shell", ["bash", "zsh"])
def test_completion_script_is_printed(shell: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["completion", shell]) == 0
    script = capsys.readouterr().out
    assert "complete -o filenames -F _nova_forge_complete nova-forge" in script
    assert '"recipe") words="' in script and "validate" in script and "--json" in script
    if shell == "zsh":
        assert script.startswith("#compdef nova-forge") and "bashcompinit" in script


@pytest.mark.skipif(shutil.which("bash") is None, reason="bash not installed")
@pytest.mark.parametrize(
    ("words", "expected"),
    [
        (["nova-forge", "rec"], {"recipe"}),
        (["nova-forge", "recipe", "va"], {"validate"}),
        (["nova-forge", "recipe", "show", "--mo"], {"--model", "--model-path"}),
        (["nova-forge", "status", "x.json", "--w"], {"--wait"}),
        (["nova-forge", "--vers"], {"--version"}),
    ],
)
def test_bash_completion_completes(words: list[str], expected: set[str], capsys: pytest.CaptureFixture[str]) -> None:
    main(["completion", "bash"])
    script = capsys.readouterr().out
    array = " ".join(f"'{w}'" for w in words)
    proc = subprocess.run(
        [
            "bash",
            "-c",
            f'{script}\nCOMP_WORDS=({array}); COMP_CWORD={len(words) - 1}; _nova_forge_complete; printf "%s\\n" "${{COMPREPLY[@]}}"',
        ],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert proc.returncode == 0, proc.stderr
    assert set(proc.stdout.split()) == expected


def test_unknown_shell_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as e:
        main(["completion", "fish"])
    assert e.value.code == 2


# ---------------------------------------------------------------- --json everywhere data is printed
@pytest.mark.parametrize(
    "argv",
    [
        ["recipe", "list", "--json", "--platform", "BEDROCK"],
        ["recipe", "keys", "--model", "NOVA_MICRO", "--method", "sft_lora", "--json"],
        ["recipe", "show", "--model", "NOVA_LITE_2", "--method", "sft_lora", "--json", "--set", "lr=5e-6"],
    ],
)
def test_json_output_parses(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(argv) == 0
    data = json.loads(capsys.readouterr().out)
    assert data


def test_recipe_show_json_carries_the_recipe(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["recipe", "show", "--model", "NOVA_LITE_2", "--method", "sft_lora", "--json", "--set", "lr=5e-6"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["hyperparameters"]["lr"] == 5e-06 and data["recipe"]["training_config"]["optim_config"]["lr"] == 5e-06


def test_recipe_validate_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "r.yaml"
    path.write_text("training_config:\n  max_steps: 40\n")
    assert main(["recipe", "validate", str(path), "--model", "NOVA_LITE_2", "--method", "sft_lora", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["valid"] is True and data["path"] == str(path) and data["model"] == "NOVA_LITE_2"


@pytest.mark.parametrize("value", [".nan", "nan", ".inf", "-.Inf", "1e400"])
def test_override_nan_from_the_command_line_is_refused(
    value: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["train", *_TRAIN_FLAGS, "--override", f"lr={value}"]) == 1
    line = _one_line_error(capsys.readouterr().err)
    assert "lr" in line and ("NaN" in line or "nan" in line or "inf" in line)
    assert main(["recipe", "show", "--model", "NOVA_LITE_2", "--method", "sft_lora", "--set", f"lr={value}"]) == 1
    _one_line_error(capsys.readouterr().err)


def test_dry_run_prints_where_the_recipe_is(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["train", *_TRAIN_FLAGS, "--recipe-dir", str(tmp_path / "recipes")]) == 0
    out = capsys.readouterr().out
    written = out.split("recipe written to ")[1].split(";")[0]
    assert Path(written).is_file() and Path(written).parent == tmp_path / "recipes"
    assert "lr:" in Path(written).read_text()


def test_dry_run_json_without_a_recipe_dir(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["train", *_TRAIN_FLAGS, "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["dry_run"] is True and Path(data["recipe_path"]).is_file()
    assert Path(data["recipe_path"]).parent.name.startswith("nova-forge-recipe-")
    shutil.rmtree(Path(data["recipe_path"]).parent)


def test_status_of_a_failed_job_exits_3(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from amzn_nova_forge.core.enums import JobStatus
    from amzn_nova_forge.manager._base import JobInfo
    from amzn_nova_forge.model.result._base import BaseJobResult

    path = tmp_path / "job_SMTJ.json"
    path.write_text(
        json.dumps({"__class_name__": "SMTJTrainingResult", "job_id": "job", "platform": "SMTJ", "method": "sft_lora"})
    )
    monkeypatch.setattr(BaseJobResult, "status", lambda self: JobInfo(JobStatus.FAILED, "Failed", "OOM"))
    assert main(["status", str(path), "--json"]) == 3
    assert json.loads(capsys.readouterr().out)["status"] == "FAILED"
    monkeypatch.setattr(BaseJobResult, "status", lambda self: JobInfo(JobStatus.COMPLETED, "Completed"))
    assert main(["status", str(path)]) == 0
