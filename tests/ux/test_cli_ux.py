"""First-run rough edges of the ``nova-forge`` command line (found by trying it as a newcomer)."""

from __future__ import annotations

import io
from typing import Any

import pytest

from amzn_nova_forge.cli._main import build_parser, main

TRAIN = [
    "train",
    "--model",
    "nova_lite_2",
    "--method",
    "sft_lora",
    "--job-name",
    "t1",
    "--data",
    "s3://b/x.jsonl",
    "--output",
    "s3://b/out",
    "--dry-run",
]
INSTANCES = ["--instance-type", "ml.p5.48xlarge", "--instance-count", "4"]


def test_top_level_help_has_examples() -> None:
    text = build_parser().format_help()
    assert "examples:" in text
    assert "nova-forge demo" in text and "nova-forge train" in text and "--dry-run" in text
    # the examples keep their line breaks (RawDescriptionHelpFormatter)
    assert "\n  nova-forge recipe keys --model nova_lite_2 --method sft_lora\n" in text


def test_train_without_instance_flags_is_one_line_config_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(TRAIN) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: ConfigError: Cannot set up the SMTJ runtime")
    assert "--instance-type" in err and "--instance-count" in err and "infra:" in err
    assert "Traceback" not in err


def test_train_dry_run_without_credentials_says_how_to_run_offline(
    no_aws_credentials: None, capsys: pytest.CaptureFixture[str]
) -> None:
    # IAM check off, infra check on: the S3 bucket check is the first AWS call and finds no credentials.
    assert main([*TRAIN, *INSTANCES, "--no-iam-check"]) == 1
    err = capsys.readouterr().err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert err.startswith("error: AWSServiceError: s3 call failed: Unable to locate credentials")
    assert "--no-iam-check --no-infra-check" in err and "aws configure" in err


def test_train_dry_run_iam_check_without_credentials_is_one_line(
    no_aws_credentials: None, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main([*TRAIN, *INSTANCES]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: AWSServiceError: sts call failed") and "--no-infra-check" in err


def test_train_dry_run_works_offline_with_checks_off(
    no_aws_credentials: None, capsys: pytest.CaptureFixture[str], tmp_path: Any
) -> None:
    rc = main([*TRAIN, *INSTANCES, "--no-iam-check", "--no-infra-check", "--recipe-dir", str(tmp_path)])
    assert rc == 0
    assert "Dry run: recipe built and checks passed" in capsys.readouterr().out
    assert list(tmp_path.glob("*.yaml"))  # the recipe was written


class _ClosedPipe(io.StringIO):
    def write(self, s: str) -> int:
        raise BrokenPipeError(32, "Broken pipe")


def test_broken_pipe_is_not_a_traceback(monkeypatch: pytest.MonkeyPatch) -> None:
    """``nova-forge recipe keys ... | head`` used to end with a BrokenPipeError traceback."""
    monkeypatch.setattr("sys.stdout", _ClosedPipe())
    assert main(["recipe", "keys", "--model", "nova_micro", "--method", "sft_lora"]) == 0


def test_botocore_error_that_escapes_is_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from botocore.exceptions import EndpointConnectionError

    def boom(args: Any) -> int:
        raise EndpointConnectionError(endpoint_url="https://s3.example")

    parser = build_parser()
    monkeypatch.setattr("amzn_nova_forge.cli._main.build_parser", lambda: parser)
    parser.set_defaults(handler=boom)
    assert main([]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: EndpointConnectionError: Could not connect") and "--debug" in err
    with pytest.raises(EndpointConnectionError):
        main(["--debug"])


def test_demo_help_has_no_rst_markup(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["demo", "--help"])
    out = capsys.readouterr().out
    assert "``" not in out and "nova-forge demo" in out


@pytest.mark.parametrize(
    "command",
    [
        ["train", "--model", "nova_lite_2", "--method", "sft", "--job-name", "j", "--platform", "LOCAL", "--dry-run"],
        ["deploy", "some/checkpoint", "--method", "sft", "--platform", "local"],
    ],
)
def test_unknown_method_lists_the_known_ones(command: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(command) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: ConfigError: Unknown --method 'sft'; one of: cpt,") and "sft_lora" in err


def test_status_of_a_missing_result_file_says_what_writes_it(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["status", "no-such-result.json"]) == 1
    err = capsys.readouterr().err
    assert "No saved job result at 'no-such-result.json'" in err and "result.dump()" in err


def test_local_deploy_says_how_to_stop_the_server(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Any
) -> None:
    from types import SimpleNamespace

    from amzn_nova_forge.core.enums import DeployPlatform

    endpoint = SimpleNamespace(endpoint_name="ep", platform=DeployPlatform.LOCAL, uri="http://127.0.0.1:5555")
    fake = SimpleNamespace(endpoint=endpoint, dump=lambda d=None: str(tmp_path / "ep_deployment.json"))
    monkeypatch.setattr("amzn_nova_forge.model._deploy.deploy_model", lambda *a, **k: fake)
    assert main(["deploy", str(tmp_path), "--platform", "local"]) == 0
    out = capsys.readouterr().out
    assert "LocalRuntimeManager.stop_deployment('http://127.0.0.1:5555')" in out
