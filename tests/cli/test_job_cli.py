"""``nova-forge train`` / ``status`` failure cases: one-line errors that name the file, line or key to fix."""

from __future__ import annotations

from pathlib import Path

import pytest

from amzn_nova_forge.cli._main import main


def _fail(capsys: pytest.CaptureFixture[str], argv: list[str], code: int = 1) -> str:
    assert main(argv) == code
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "Traceback" not in captured.err
    return captured.err.strip()


def test_unknown_config_key_is_named(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], no_aws_credentials: None
) -> None:
    cfg = tmp_path / "job.yaml"
    cfg.write_text("model: NOVA_LITE_2\nmethod: sft_lora\njob_name: j\noveride: {max_steps: 5}\n")
    err = _fail(capsys, ["train", "--config", str(cfg)])
    assert err.startswith("error: ValueError: ")
    assert f"{cfg}: unknown key(s) 'overide'" in err and "allowed: model, method" in err and "overrides" in err


def test_invalid_yaml_names_file_and_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cfg = tmp_path / "job.yaml"
    cfg.write_text("model: NOVA_LITE_2\nmethod: sft_lora\ninfra: {platform: SMTJ\n")
    err = _fail(capsys, ["train", "--config", str(cfg)])
    assert f"{cfg} is not valid YAML at line " in err


def test_config_must_be_a_mapping(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cfg = tmp_path / "job.yaml"
    cfg.write_text("- model\n- method\n")
    assert _fail(capsys, ["train", "--config", str(cfg)]) == f"error: ValueError: {cfg} must hold a YAML mapping."


def test_missing_config_file_is_named(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    err = _fail(capsys, ["train", "--config", str(tmp_path / "nope.yaml")])
    assert err.startswith("error: FileNotFoundError:") and "nope.yaml" in err


def test_train_needs_model_method_and_job_name(capsys: pytest.CaptureFixture[str]) -> None:
    err = _fail(capsys, ["train", "--model", "NOVA_LITE_2", "--method", "sft_lora"])
    assert err == (
        "error: ValueError: train needs a model, a method and a job name (--model, --method, --job-name or --config)."
    )


def test_override_without_equals_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    err = _fail(
        capsys,
        [
            "train",
            "--model",
            "NOVA_LITE_2",
            "--method",
            "sft_lora",
            "--job-name",
            "j",
            "--platform",
            "LOCAL",
            "--override",
            "max_steps",
        ],
    )
    assert err == "error: ValueError: --override expects KEY=VALUE, got 'max_steps'."


def test_unknown_infra_setting_says_where_to_put_it(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    cfg = tmp_path / "job.yaml"
    cfg.write_text("model: NOVA_LITE_2\nmethod: sft_lora\njob_name: j\ninfra: {platform: SMTJ, instance_typo: x}\n")
    err = _fail(capsys, ["train", "--config", str(cfg)])
    assert err.startswith("error: ConfigError: Cannot set up the SMTJ runtime:")
    assert "instance_typo" in err and "under 'infra:' in --config" in err


def test_status_of_a_missing_result_file(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    err = _fail(capsys, ["status", str(tmp_path / "gone_SMTJ.json")])
    assert "gone_SMTJ.json" in err and err.startswith("error: ")


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('{\n  "job_id": "x",\n  oops\n}', "is not a saved job result (invalid JSON at line 3)"),
        ('["job_id"]', "is not a saved job result (no 'job_id'"),
        ('{"platform": "SMTJ"}', "is not a saved job result (no 'job_id'"),
        ('{"job_id": "x", "__class_name__": "NoSuchResult"}', "Unknown result class 'NoSuchResult'"),
    ],
)
def test_status_of_a_file_that_is_not_a_result_names_it(
    content: str, message: str, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    from amzn_nova_forge.errors import ConfigError
    from amzn_nova_forge.model.result._base import BaseJobResult

    path = tmp_path / "x_SMTJ.json"
    path.write_text(content)
    with pytest.raises(ConfigError, match=r"x_SMTJ\.json") as e:
        BaseJobResult.load(str(path))
    assert message in str(e.value)
    err = _fail(capsys, ["status", str(path)])
    assert err.startswith(f"error: ConfigError: {path}") and message in err
