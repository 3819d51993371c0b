"""Common first-run mistakes raise typed SDK errors (or warn) with a message that says what to fix."""

from __future__ import annotations

import json
import logging
import time
from pathlib import Path
from typing import Any

import pytest

from amzn_nova_forge.core.enums import EvaluationTask, Model, Platform, TrainingMethod
from amzn_nova_forge.errors import AWSServiceError, ConfigError, UnsupportedRegionError

OFF = {"iam": False, "infra": False}


def _smtj(**kw: Any) -> Any:
    from amzn_nova_forge.manager import SMTJRuntimeManager

    return SMTJRuntimeManager(instance_type="ml.p5.48xlarge", instance_count=4, **kw)


def _customizer(infra: Any, **kw: Any) -> Any:
    from amzn_nova_forge.model import NovaModelCustomizer

    return NovaModelCustomizer(
        model=Model.NOVA_LITE_2, method=TrainingMethod.SFT_LORA, infra=infra, data_s3_path="s3://b/x.jsonl", **kw
    )


def test_unsupported_region_says_where_to_set_it(no_aws_credentials: None) -> None:
    with pytest.raises(UnsupportedRegionError) as e:
        _customizer(_smtj(region="us-moon-1"), validation_config=OFF).train(job_name="j", dry_run=True)
    msg = str(e.value)
    assert "'us-moon-1' is not supported" in msg and "us-east-1" in msg
    assert "region=..." in msg


def test_train_without_credentials_is_typed_with_offline_hint(no_aws_credentials: None) -> None:
    with pytest.raises(AWSServiceError) as e:
        _customizer(_smtj(), output_s3_path="s3://b/o").train(job_name="j")
    msg = str(e.value)
    assert "Unable to locate credentials" in msg
    assert "validation_config={'iam': False, 'infra': False}" in msg and "dry_run=True" in msg


def test_bucket_check_without_credentials_is_aws_service_error(no_aws_credentials: None) -> None:
    from amzn_nova_forge.manager._checks_aws import check_bucket_reachable

    with pytest.raises(AWSServiceError, match="s3 call failed: Unable to locate credentials"):
        check_bucket_reachable("s3://some-bucket/out", region="us-east-1")


# ---- monitor / results --------------------------------------------------------------------------


def _local_job(tmp_path: Path, job_id: str, status: str, log: str = "") -> Path:
    jd = tmp_path / job_id
    jd.mkdir(parents=True)
    now = time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime())
    (jd / "status.json").write_text(json.dumps({"job_id": job_id, "status": status, "created_at": now}))
    (jd / "train.log").write_text(log)
    return jd


def test_plot_metrics_takes_the_method_from_the_training_result(tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    from amzn_nova_forge.model.result._training import LocalTrainingResult
    from amzn_nova_forge.monitor import CloudWatchLogMonitor

    lines = "".join(
        f"Epoch 0: : {i + 1}it [00:01, reduced_train_loss={3 - i * 0.1:.3f}, global_step={i}.000]\n" for i in range(4)
    )
    jd = _local_job(tmp_path, "sft-1", "Completed", lines)
    result = LocalTrainingResult("sft-1", TrainingMethod.SFT_LORA, extras={"job_dir": str(jd)})
    png = CloudWatchLogMonitor.from_job_result(result).plot_metrics(output_path=tmp_path / "loss.png")
    assert png is not None and Path(png).stat().st_size > 0

    bare = CloudWatchLogMonitor.from_job_id(job_id="sft-1", platform=Platform.LOCAL, job_dir=str(jd))
    with pytest.raises(ConfigError, match=r"needs training_method=\.\.\."):
        bare.plot_metrics()


def test_get_on_a_running_evaluation_warns_what_to_do(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    from amzn_nova_forge.model.result._evaluation import LocalEvaluationResult

    jd = _local_job(tmp_path, "ev-1", "InProgress")
    ev = LocalEvaluationResult("ev-1", eval_task=EvaluationTask.GEN_QA, extras={"job_dir": str(jd)})
    with caplog.at_level(logging.WARNING):
        assert ev.get() == {}  # the published contract: an empty dict until the job completes
    assert any(
        r.levelno == logging.WARNING and "call eval_result.wait() first" in r.getMessage() for r in caplog.records
    )


def test_get_on_a_running_batch_inference_warns_what_to_do(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    from amzn_nova_forge.model.result._inference import LocalBatchInferenceResult

    jd = _local_job(tmp_path, "bi-1", "InProgress")
    bi = LocalBatchInferenceResult("bi-1", extras={"job_dir": str(jd)})
    with caplog.at_level(logging.WARNING):
        assert bi.get() == {}
    assert any("call inference_result.wait() first" in r.getMessage() for r in caplog.records)


# ---- local runtime --------------------------------------------------------------------------------


def test_local_evaluation_with_missing_data_names_evaluation_data(tmp_path: Path) -> None:
    pytest.importorskip("torch")
    from amzn_nova_forge.manager import LocalRuntimeManager
    from amzn_nova_forge.model import NovaModelCustomizer

    c = NovaModelCustomizer(
        model=Model.NOVA_LITE_2,
        method=TrainingMethod.SFT_LORA,
        infra=LocalRuntimeManager(output_root=str(tmp_path)),
        data_s3_path=str(tmp_path / "train.jsonl"),
        output_s3_path=str(tmp_path / "runs"),
    )
    with pytest.raises(ConfigError, match=r"^Evaluation data not found: .*nope\.jsonl"):
        c.evaluate(job_name="e", eval_task=EvaluationTask.GEN_QA, data_s3_path=str(tmp_path / "nope.jsonl"))


def test_local_untransformed_rows_say_how_to_prepare_them() -> None:
    from amzn_nova_forge.errors import DataPrepError
    from amzn_nova_forge.manager._local._data import to_messages

    with pytest.raises(DataPrepError) as e:
        to_messages({"input": "q", "output": "a"})
    msg = str(e.value)
    assert "'input', 'output'" in msg and "JSONLDatasetLoader(" in msg and ".transform(" in msg


def test_local_llm_judge_is_refused_at_submission(tmp_path: Path) -> None:
    """It used to be accepted, then fail in the worker; now the call itself says why and what to use."""
    pytest.importorskip("torch")
    from amzn_nova_forge.manager import LocalRuntimeManager
    from amzn_nova_forge.model import NovaModelCustomizer

    data = tmp_path / "gen_qa.jsonl"
    data.write_text(json.dumps({"query": "q", "response": "r"}) + "\n")
    c = NovaModelCustomizer(
        model=Model.NOVA_MICRO,
        method=TrainingMethod.SFT_LORA,
        infra=LocalRuntimeManager(output_root=str(tmp_path)),
        data_s3_path=str(data),
        output_s3_path=str(tmp_path / "runs"),
    )
    with pytest.raises(ConfigError, match="'llm_judge' is not available on the local runtime.*gen_qa"):
        c.evaluate(job_name="e", eval_task=EvaluationTask.LLM_JUDGE, data_s3_path=str(data))
    assert not (tmp_path / "runs").exists() or not any((tmp_path / "runs").iterdir())  # no job folder


def test_load_of_a_missing_result_file(tmp_path: Path) -> None:
    from amzn_nova_forge.model.result._base import BaseJobResult

    with pytest.raises(FileNotFoundError, match=r"No saved job result at .*result\.dump\(\)"):
        BaseJobResult.load(str(tmp_path / "nope.json"))


# ---- mistakes that already read well (kept from regressing) ----------------------------------------


def test_wrong_model_method_platform_combinations(no_aws_credentials: None) -> None:
    from amzn_nova_forge.errors import UnsupportedFeatureError
    from amzn_nova_forge.model import NovaModelCustomizer

    with pytest.raises(UnsupportedFeatureError, match="RFT_LORA is not supported for NOVA_MICRO on SMTJ.*NOVA_LITE_2"):
        NovaModelCustomizer(
            model=Model.NOVA_MICRO, method=TrainingMethod.RFT_LORA, infra=_smtj(), data_s3_path="s3://b/x.jsonl"
        ).train(job_name="j", dry_run=True)
    with pytest.raises(UnsupportedFeatureError, match="CPT is not supported for NOVA_LITE_2 on SMTJ.*SMHP"):
        NovaModelCustomizer(
            model=Model.NOVA_LITE_2, method=TrainingMethod.CPT, infra=_smtj(), data_s3_path="s3://b/x.jsonl"
        ).train(job_name="j", dry_run=True)


def test_override_typo_suggests_the_key(no_aws_credentials: None) -> None:
    from amzn_nova_forge.errors import RecipeOverrideError

    with pytest.raises(RecipeOverrideError, match=r"Unknown override 'learning_rat'.*Did you mean 'lr'"):
        _customizer(_smtj(), validation_config=OFF).train(job_name="j", overrides={"learning_rat": 1e-5}, dry_run=True)
    # the spec's max_epochs on a Nova 2 recipe (which counts steps) points at max_steps
    with pytest.raises(RecipeOverrideError, match="Did you mean 'max_steps'"):
        _customizer(_smtj(), validation_config=OFF).train(job_name="j", overrides={"max_epochs": 2}, dry_run=True)


def test_dataset_mistakes(tmp_path: Path) -> None:
    from amzn_nova_forge.dataset import JSONLDatasetLoader
    from amzn_nova_forge.errors import DataPrepError

    with pytest.raises(DataPrepError, match="file not found"):
        JSONLDatasetLoader(question="q", answer="a").load(str(tmp_path / "nope.jsonl"))
    f = tmp_path / "io.jsonl"
    f.write_text(json.dumps({"input": "q", "output": "a"}) + "\n")
    loader = JSONLDatasetLoader()
    loader.load(str(f))
    with pytest.raises(DataPrepError, match=r"no mapping for it.*JSONLDatasetLoader\(question='input'"):
        loader.transform(method=TrainingMethod.SFT_LORA, model=Model.NOVA_LITE_2)


def test_show_and_cli_results_of_a_running_job_say_it_once(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    from amzn_nova_forge.cli._main import main
    from amzn_nova_forge.model.result._evaluation import LocalEvaluationResult

    jd = _local_job(tmp_path, "ev-2", "InProgress")
    ev = LocalEvaluationResult("ev-2", eval_task=EvaluationTask.GEN_QA, extras={"job_dir": str(jd)})
    with caplog.at_level(logging.WARNING):
        ev.show()
        saved = ev.dump(file_path=str(tmp_path))
        assert main(["results", str(saved)]) == 3
        assert main(["results", str(saved), "--json"]) == 3
    out = capsys.readouterr().out
    assert out.count("is InProgress; results are available once it completes") == 2
    assert out.rstrip().endswith("{}")
    assert not [r for r in caplog.records if "get() returns" in r.getMessage()]  # no duplicate warning


def test_wait_polls_local_jobs_every_second_by_default(tmp_path: Path) -> None:
    """``result.wait()`` as the README writes it used to sleep 30 s per poll on a 20-second local job."""
    from amzn_nova_forge.model.result._training import LocalTrainingResult, SMTJTrainingResult

    jd = _local_job(tmp_path, "sft-2", "InProgress")
    local = LocalTrainingResult("sft-2", TrainingMethod.SFT_LORA, extras={"job_dir": str(jd)})
    naps: list[float] = []

    def sleep(s: float) -> None:
        naps.append(s)
        (jd / "status.json").write_text(json.dumps({"job_id": "sft-2", "status": "Completed"}))

    assert local.wait(sleep=sleep).status.name == "COMPLETED"
    assert naps == [1.0]

    cloud = SMTJTrainingResult("job-1", TrainingMethod.SFT_LORA, region="us-east-1")
    infos = iter([("InProgress", False), ("Completed", True)])

    class _Info:
        def __init__(self, raw: str, terminal: bool) -> None:
            self.raw_status = raw
            self.status = type("S", (), {"is_terminal": terminal})()

    cloud.status = lambda: _Info(*next(infos))  # type: ignore[method-assign]
    naps.clear()
    cloud.wait(sleep=naps.append)
    assert naps == [30.0]
