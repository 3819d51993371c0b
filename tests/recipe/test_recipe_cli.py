"""``nova-forge recipe show|keys|validate|list``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from amzn_nova_forge.cli._main import main


def test_show_prints_final_yaml(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    rc = main(
        [
            "recipe",
            "show",
            "--model",
            "NOVA_LITE_2",
            "--method",
            "sft_lora",
            "--platform",
            "SMTJ",
            "--instance-type",
            "ml.p5.48xlarge",
            "--instance-count",
            "4",
            "--set",
            "max_steps=50",
            "--set",
            "lr=5e-6",
            "--job-name",
            "cli-job",
            "--output-dir",
            str(tmp_path),
        ]
    )
    out, err = capsys.readouterr()
    assert rc == 0
    recipe = yaml.safe_load(out)
    assert recipe["run"]["name"] == "cli-job" and recipe["run"]["replicas"] == 4
    assert recipe["training_config"]["max_steps"] == 50 and recipe["training_config"]["optim_config"]["lr"] == 5e-6
    assert "nova-fine-tune-repo:SM-TJ-SFT-V2-latest" in err
    assert yaml.safe_load((tmp_path / "cli-job.yaml").read_text()) == recipe


def test_show_hyperparameters_json(capsys: pytest.CaptureFixture[str]) -> None:
    assert (
        main(
            [
                "recipe",
                "show",
                "--model",
                "nova_micro",
                "--method",
                "evaluation",
                "--eval-task",
                "mmlu",
                "--subtask",
                "anatomy",
                "--hyperparameters",
            ]
        )
        == 0
    )
    hp = json.loads(capsys.readouterr().out)
    assert hp["max_new_tokens"] == 8196 and hp["top_k"] == -1


def test_show_refuses_bad_override_with_explanation(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["recipe", "show", "--model", "NOVA_LITE", "--method", "sft_lora", "--set", "max_epoch=3"]) == 1
    err = capsys.readouterr().err
    assert "RecipeOverrideError" in err and "Did you mean 'max_epochs'" in err
    assert (
        main(
            [
                "recipe",
                "show",
                "--model",
                "NOVA_LITE",
                "--method",
                "sft_full",
                "--instance-type",
                "ml.g5.12xlarge",
                "--instance-count",
                "1",
            ]
        )
        == 1
    )
    assert "ml.p5.48xlarge (4, 8, 16)" in capsys.readouterr().err


def test_keys_lists_ranges_and_defaults(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["recipe", "keys", "--model", "NOVA_LITE", "--method", "dpo_lora"]) == 0
    out = capsys.readouterr().out
    line = next(ln for ln in out.splitlines() if ln.startswith("beta "))
    assert "[0.001, 0.1]" in line and "0.1" in line and "adam_beta" in line
    assert "data_s3_path" not in out
    assert main(["recipe", "keys", "--model", "NOVA_LITE", "--method", "dpo_lora", "--json", "--all"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["max_epochs"]["default"] == 2 and data["max_epochs"]["allowed"] == "an integer in [1, 100]"
    assert "data_s3_path" in data


def test_validate_recipe_file(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert main(["recipe", "show", "--model", "NOVA_PRO", "--method", "sft_lora"]) == 0
    good = tmp_path / "good.yaml"
    good.write_text(capsys.readouterr().out)
    assert main(["recipe", "validate", str(good), "--method", "sft_lora"]) == 0
    assert "OK:" in capsys.readouterr().out
    bad = tmp_path / "bad.yaml"
    bad.write_text(good.read_text().replace("max_epochs: 2", "max_epochs: 500"))
    assert main(["recipe", "validate", str(bad), "--method", "sft_lora"]) == 1
    assert "'max_epochs': 500" in capsys.readouterr().err
    ev = tmp_path / "eval.yaml"
    ev.write_text(
        yaml.safe_dump(
            {
                "run": {"model_type": "amazon.nova-2-lite-v1:0:256k"},
                "evaluation": {"task": "gpqa"},
                "inference": {"top_p": 0.5},
            }
        )
    )
    assert main(["recipe", "validate", str(ev)]) == 0
    assert "NOVA_LITE_2 evaluation" in capsys.readouterr().out
    assert main(["recipe", "validate", str(good)]) == 1
    assert "--method" in capsys.readouterr().err


def test_list(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["recipe", "list", "--platform", "bedrock"]) == 0
    rows = capsys.readouterr().out.splitlines()
    assert len(rows) == 5 and all("BEDROCK" in r for r in rows)
