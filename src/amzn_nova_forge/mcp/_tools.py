"""The MCP tools: each one a thin, typed call into the SDK that returns JSON-safe data.

No MCP import here (``_server`` registers these methods as tools), so the tools are plain
Python and tested as such. Annotations are evaluated (no ``from __future__ import
annotations``) because the MCP SDK builds each tool's JSON schema from them.

Spending money takes two calls: ``train``, ``evaluate`` and ``deploy`` first return a plan
(a dry run: the recipe is built and every offline check runs) with a ``confirm_token``;
the same call with that token starts the work (see :mod:`._confirm`).
"""

import os
import tempfile
from pathlib import Path
from typing import Any, TypedDict

from amzn_nova_forge.core.enums import (
    DeployPlatform,
    EvaluationTask,
    Model,
    Platform,
    TrainingMethod,
)
from amzn_nova_forge.errors import ConfigError, DatasetValidationError
from amzn_nova_forge.mcp._confirm import Confirmations

__all__ = ["ForgeTools", "JSONScalar"]

JSONScalar = str | int | float | bool
_RESULT_SUFFIX = tuple(f"_{p.value}.json" for p in Platform)
_LOADERS = {".jsonl": "JSONLDatasetLoader", ".json": "JSONDatasetLoader", ".csv": "CSVDatasetLoader"}
_LOADERS |= {".parquet": "ParquetDatasetLoader", ".pq": "ParquetDatasetLoader"}


class Problem(TypedDict):
    line: int | None
    path: str | None
    message: str


def _enum(kind: type[Any], value: str, what: str) -> Any:
    text = str(value).strip()
    for member in kind:
        if text in (member.name, str(member.value)) or text.lower() == str(member.value).lower():
            return member
    if kind is Model:
        try:
            return Model.from_model_name(text)
        except (ValueError, KeyError, ConfigError):
            pass
    allowed = ", ".join(str(m.value) for m in kind)
    raise ConfigError(f"Unknown {what} {value!r}; one of: {allowed}.")


def _model(value: str) -> Model:
    return Model.from_model_type(value) if value.startswith("amazon.") else _enum(Model, value, "model")


class ForgeTools:
    """The tool set of one MCP server.

    Args:
        results_dir: Where started jobs' results are saved (``~/.nova-forge/mcp-results`` by default);
            ``job_status``/``job_logs``/``job_results`` find jobs there by id.
        confirmations: Token issuer (one per server process).
    """

    def __init__(self, results_dir: str | None = None, confirmations: Confirmations | None = None) -> None:
        self.results_dir = Path(os.path.expanduser(results_dir or "~/.nova-forge/mcp-results"))
        self.confirmations = confirmations or Confirmations()

    # ------------------------------------------------------------------ discovery
    def list_options(self) -> dict[str, list[dict[str, Any]]]:
        """List the models, training methods, platforms, evaluation tasks and deploy targets this SDK knows."""
        from amzn_nova_forge.manager._registry import runtime_platforms

        return {
            "models": [
                {"name": m.name, "value": m.name.lower(), "model_type": m.model_type, "version": m.version.name}
                for m in Model
            ],
            "training_methods": [{"name": m.name, "value": m.value} for m in TrainingMethod],
            "platforms": [{"name": p.name, "value": p.value} for p in runtime_platforms()],
            "evaluation_tasks": [
                {"name": t.name, "value": t.value, "strategy": t.strategy, "metric": t.metric, "byod": t.is_byod}
                for t in EvaluationTask
            ],
            "deploy_platforms": [{"name": d.name, "value": d.value} for d in DeployPlatform],
        }

    def recipe_keys(
        self, model: str, method: str, platform: str = "SMTJ", instance_type: str | None = None
    ) -> dict[str, Any]:
        """The override keys of a recipe: type, allowed values or range, default."""
        from amzn_nova_forge.recipe import RecipeBuilder

        builder = RecipeBuilder(
            _model(model),
            _enum(TrainingMethod, method, "method"),
            _enum(Platform, platform, "platform"),
            instance_type=instance_type,
        )
        keys = {
            k: {"type": v.get("type"), "allowed": v["allowed"], "default": v["default"]}
            for k, v in builder.keys().items()
            if v.get("category") != "run"
        }
        return {"keys": keys}

    def validate_dataset(
        self,
        path: str,
        model: str,
        training_method: str,
        column_mappings: dict[str, str] | None = None,
        platform: str | None = None,
        eval_task: str | None = None,
        max_problems: int = 20,
    ) -> dict[str, Any]:
        """Validate a dataset file (local path or s3://) for a model and method.

        With ``column_mappings`` (e.g. ``{"question": "input", "answer": "output"}``) the records are
        transformed to the Nova format first, as ``loader.transform`` does. An invalid dataset is a
        normal answer (``valid: false`` with the problems, each with its line and JSON path).
        """
        from amzn_nova_forge.dataset import _loaders

        if not 1 <= max_problems <= 1000:
            raise ConfigError(f"max_problems must be between 1 and 1000, got {max_problems}.")
        suffix = Path(path).suffix.lower()
        if suffix not in _LOADERS:
            raise ConfigError(f"Cannot tell the format of {path!r}; use a .jsonl, .json, .csv or .parquet file.")
        loader = getattr(_loaders, _LOADERS[suffix])(**(column_mappings or {})).load(path)
        method = _enum(TrainingMethod, training_method, "training_method")
        mdl = _model(model)
        task = _enum(EvaluationTask, eval_task, "eval_task") if eval_task else None
        plat = _enum(Platform, platform, "platform") if platform else None
        if column_mappings:
            loader.transform(method, mdl, eval_task=task)
        try:
            loader.validate(method=method, model=mdl, eval_task=task, platform=plat)
        except DatasetValidationError as e:
            problems: list[Problem] = [
                {"line": line, "path": json_path, "message": msg} for line, json_path, msg in e.problems[:max_problems]
            ]
            return {"valid": False, "total_problems": e.total, "problems": problems}
        return {"valid": True, "total_problems": 0, "problems": []}

    # ------------------------------------------------------------------ jobs
    def train(
        self,
        model: str,
        method: str,
        job_name: str,
        data_path: str,
        platform: str = "SMTJ",
        output_path: str | None = None,
        instance_type: str | None = None,
        instance_count: int | None = None,
        overrides: dict[str, JSONScalar] | None = None,
        infra: dict[str, JSONScalar] | None = None,
        check_iam: bool = True,
        check_infra: bool = True,
        confirm_token: str | None = None,
    ) -> dict[str, Any]:
        """Plan (dry run) or start a training job.

        Without ``confirm_token``: builds and validates the recipe, runs the pre-flight checks and
        returns the plan with a ``confirm_token``. With the token (same arguments): starts the job and
        saves its result; use ``job_status``/``job_logs`` with the returned ``job_id``.
        ``infra`` holds extra runtime settings (e.g. ``{"base_model": "Qwen/Qwen2.5-0.5B"}`` for LOCAL,
        ``{"cluster_name": "c", "namespace": "kubeflow"}`` for SMHP).
        """
        args = dict(locals())
        args.pop("self")
        customizer = self._customizer(args, data_path)
        if confirm_token is None:
            recipe_dir = tempfile.mkdtemp(prefix="nova-forge-mcp-")
            customizer.generated_recipe_dir = recipe_dir
            customizer.train(job_name=job_name, overrides=dict(overrides or {}), dry_run=True)
            return self._plan("train", args, customizer, recipe_dir)
        self.confirmations.check("train", args, confirm_token)
        result = customizer.train(job_name=job_name, overrides=dict(overrides or {}))
        return self._started(result)

    def evaluate(
        self,
        model: str,
        eval_task: str,
        job_name: str,
        platform: str = "SMTJ",
        method: str = "sft_lora",
        data_path: str | None = None,
        model_path: str | None = None,
        training_job: str | None = None,
        subtask: str | None = None,
        output_path: str | None = None,
        instance_type: str | None = None,
        instance_count: int | None = None,
        overrides: dict[str, JSONScalar] | None = None,
        infra: dict[str, JSONScalar] | None = None,
        check_iam: bool = True,
        check_infra: bool = True,
        confirm_token: str | None = None,
    ) -> dict[str, Any]:
        """Plan (dry run) or start an evaluation job, of a base model, a checkpoint or a training job's output.

        ``training_job`` is a job id or saved result of a training job started here (its checkpoint is
        evaluated); ``model_path`` names a checkpoint directly. Two calls, as for ``train``.
        """
        args = dict(locals())
        args.pop("self")
        customizer = self._customizer(args, None)
        task = _enum(EvaluationTask, eval_task, "eval_task")
        job_result = self._load(training_job) if training_job else None
        kwargs: dict[str, Any] = {
            "job_name": job_name,
            "eval_task": task,
            "model_path": model_path,
            "subtask": subtask,
            "data_s3_path": data_path,
            "overrides": dict(overrides or {}),
            "job_result": job_result,
        }
        if confirm_token is None:
            recipe_dir = tempfile.mkdtemp(prefix="nova-forge-mcp-")
            customizer.generated_recipe_dir = recipe_dir
            customizer.evaluate(**kwargs, dry_run=True)
            return self._plan("evaluate", args, customizer, recipe_dir)
        self.confirmations.check("evaluate", args, confirm_token)
        return self._started(customizer.evaluate(**kwargs))

    def deploy(
        self,
        training_job: str,
        deploy_platform: str = "bedrock_od",
        endpoint_name: str | None = None,
        unit_count: int | None = None,
        sagemaker_instance_type: str | None = None,
        confirm_token: str | None = None,
    ) -> dict[str, Any]:
        """Plan or create an endpoint serving a training job's checkpoint (Bedrock, SageMaker or local).

        The first call returns what would be created and a ``confirm_token``; the second creates it.
        """
        args = dict(locals())
        args.pop("self")
        target = _enum(DeployPlatform, deploy_platform, "deploy_platform")
        result = self._load(training_job)
        artifacts = getattr(result, "model_artifacts", None)
        checkpoint = getattr(artifacts, "checkpoint_s3_path", None)
        if confirm_token is None:
            if not checkpoint:
                raise ConfigError(
                    f"Training job {result.job_id} has no checkpoint yet (status {result.status().status.name}); "
                    "wait until it is COMPLETED, then deploy."
                )
            plan = {
                "deploy_platform": target.value,
                "checkpoint": checkpoint,
                "endpoint_name": endpoint_name,
                "unit_count": unit_count,
                "creates": _DEPLOY_CREATES[target],
            }
            return {"status": "planned", "plan": plan, "confirm_token": self.confirmations.issue("deploy", args)}
        self.confirmations.check("deploy", args, confirm_token)
        from amzn_nova_forge.core.aws import resolve_region
        from amzn_nova_forge.deployer import ForgeDeployer

        deployer = ForgeDeployer(
            region=result.region or resolve_region(None), model=result.model_type, method=result.method
        )
        kwargs: dict[str, Any] = {"model_artifact_path": checkpoint, "deploy_platform": target}
        if endpoint_name is not None:
            kwargs["endpoint_name"] = endpoint_name
        if unit_count is not None:
            kwargs["unit_count"] = unit_count
        if sagemaker_instance_type:
            kwargs["sagemaker_instance_type"] = sagemaker_instance_type
        deployment = deployer.deploy(**kwargs)
        ep = deployment.endpoint
        return {
            "status": "deployed",
            "deploy_platform": ep.platform.value,
            "endpoint_name": ep.endpoint_name,
            "uri": ep.uri,
        }

    # ------------------------------------------------------------------ status
    def job_status(self, job: str) -> dict[str, Any]:
        """Status of a job started here (its id) or saved anywhere (the path of its result file)."""
        result = self._load(job)
        info = result.status()
        out: dict[str, Any] = {
            "job_id": result.job_id,
            "platform": result.platform.value,
            "status": info.status.name,
            "raw_status": info.raw_status,
            "message": info.message,
        }
        artifacts = getattr(result, "model_artifacts", None)
        if artifacts is not None:
            out["checkpoint"] = artifacts.checkpoint_s3_path
            out["output_path"] = artifacts.output_s3_path
        return out

    def job_logs(self, job: str, limit: int = 100) -> dict[str, Any]:
        """The last ``limit`` log lines of a job (1–5000)."""
        if not 1 <= limit <= 5000:
            raise ConfigError(f"limit must be between 1 and 5000, got {limit}.")
        from amzn_nova_forge.monitor import CloudWatchLogMonitor

        result = self._load(job)
        events = CloudWatchLogMonitor.from_job_result(result).get_logs(limit=limit)
        return {"job_id": result.job_id, "lines": [str(e.get("message", "")) for e in events]}

    def job_results(self, job: str) -> dict[str, Any]:
        """The results of a finished job: metrics of an evaluation, artifacts of a training job."""
        result = self._load(job)
        out: dict[str, Any] = {"job_id": result.job_id, "kind": type(result).__name__}
        getter = getattr(result, "get", None)
        if callable(getter):
            out["results"] = getter()
        return out

    # ------------------------------------------------------------------ helpers
    def _customizer(self, args: dict[str, Any], data_path: str | None) -> Any:
        from amzn_nova_forge.manager._registry import get_runtime_class
        from amzn_nova_forge.model import NovaModelCustomizer

        plat = _enum(Platform, str(args["platform"]), "platform")
        spec: dict[str, Any] = dict(args.get("infra") or {})
        if args.get("instance_type") is not None:
            spec["instance_type"] = args["instance_type"]
        if args.get("instance_count") is not None:
            spec["instance_count"] = args["instance_count"]
        cls = get_runtime_class(plat)
        try:
            infra = cls(**spec)
        except TypeError as e:
            raise ConfigError(f"Cannot set up the {plat.value} runtime with {sorted(spec)}: {e}.") from None
        return NovaModelCustomizer(
            model=_model(str(args["model"])),
            method=_enum(TrainingMethod, str(args.get("method") or "sft_lora"), "method"),
            infra=infra,
            data_s3_path=data_path,
            output_s3_path=args.get("output_path"),
            validation_config={"iam": bool(args["check_iam"]), "infra": bool(args["check_infra"])},
        )

    def _plan(self, tool: str, args: dict[str, Any], customizer: Any, recipe_dir: str) -> dict[str, Any]:
        from amzn_nova_forge.manager._registry import capabilities_of

        recipes = sorted(str(p) for p in Path(recipe_dir).glob("*.y*ml"))
        plan = {
            "platform": customizer.platform.value,
            "model": customizer.model.name,
            "method": customizer.method.value,
            "recipe_path": recipes[0] if recipes else None,
            "recipe": Path(recipes[0]).read_text(encoding="utf-8") if recipes else None,
            "billed": capabilities_of(customizer.platform).billed,
        }
        return {"status": "planned", "plan": plan, "confirm_token": self.confirmations.issue(tool, args)}

    def _started(self, result: Any) -> dict[str, Any]:
        self.results_dir.mkdir(parents=True, exist_ok=True)
        path = result.dump(file_path=str(self.results_dir))
        return {
            "status": "started",
            "job_id": result.job_id,
            "platform": result.platform.value,
            "result_path": str(Path(path).resolve()),
        }

    def _load(self, job: str) -> Any:
        from amzn_nova_forge.model.result import BaseJobResult

        path = Path(os.path.expanduser(job))
        if not path.is_file():
            matches = sorted(self.results_dir.glob(f"{job}_*.json")) if self.results_dir.is_dir() else []
            matches = [m for m in matches if m.name.endswith(_RESULT_SUFFIX)]
            if not matches:
                raise ConfigError(
                    f"No job {job!r}: give the path of a saved result file, or the id of a job started "
                    f"through this server (results are kept in {self.results_dir})."
                )
            path = matches[-1]
        return BaseJobResult.load(str(path))


_DEPLOY_CREATES = {
    DeployPlatform.BEDROCK_OD: "a Bedrock custom model and an on-demand deployment (billed per token)",
    DeployPlatform.BEDROCK_PT: "a Bedrock custom model and provisioned throughput (billed per model unit-hour)",
    DeployPlatform.SAGEMAKER: "a SageMaker model, endpoint configuration and endpoint (billed per instance-hour)",
    DeployPlatform.LOCAL: "an OpenAI-compatible server on 127.0.0.1 (free)",
}
