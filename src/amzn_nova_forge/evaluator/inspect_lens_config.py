"""``InspectLensConfig``: an evaluation with your own Inspect AI benchmarks, run as a SageMaker job.

InspectLens runs `Inspect AI <https://inspect.aisi.org.uk>`_ tasks (``@task`` functions in
``.py`` files you upload with ``ForgeEvaluator.upload_benchmarks``) against one of three
inference providers, chosen by the fields set:

* **Bedrock** (default): ``bedrock_model_id``, else the evaluated checkpoint or the model's Bedrock id;
* **an existing SageMaker endpoint**: ``endpoint_name``;
* **a new SageMaker endpoint** created for the run and (by default) deleted after it:
  ``model_s3_uri`` + ``inference_image_uri`` (+ instance type/count, role, context length …).

The job itself is a CPU orchestrator (a SageMaker training job on ``ml.m5.large``) that reads
``inspect_config.yaml`` (see :meth:`InspectLensConfig.to_yaml_dict`) and writes Inspect's
logs to ``output_s3_path``. Decoding settings come from ``evaluate(overrides=…)``: only the
keys in :data:`DECODING_OVERRIDES` are accepted, each range-checked.

Example:
    >>> cfg = InspectLensConfig(benchmarks_path="s3://my-bucket/benchmarks/",
    ...                         tasks=[{"name": "boolq", "limit": 100}])
    >>> cfg.scenario
    'bedrock'
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from amzn_nova_forge.errors import ConfigError

__all__ = ["DECODING_OVERRIDES", "InspectLensConfig", "InspectLensTask", "check_decoding_overrides"]

InspectLensTask = dict[str, Any]
Scenario = Literal["bedrock", "existing_endpoint", "create_endpoint"]

_ECR_URI = re.compile(r"^\d{12}\.dkr\.ecr\.[a-z0-9-]+\.amazonaws\.com(\.cn)?/[^:@\s]+(:[^:@\s]+|@sha256:[0-9a-f]{64})$")
_ROLE_ARN = re.compile(r"^arn:aws[a-z-]*:iam::\d{12}:role/[\w+=,.@/-]+$")
_OUTPUT_FORMATS = ("eval", "csv", "jsonl", "json")
_TASK_KEYS = {"name", "path", "limit", "epochs", "task_args"}

#: Decoding/eval overrides InspectLens applies: key -> (default, low, high, integer?).
DECODING_OVERRIDES: dict[str, tuple[float, float, float, bool]] = {
    "temperature": (0.0, 0.0, 2.0, False),
    "top_p": (1.0, 0.0, 1.0, False),
    "top_k": (-1, -1, 1_000_000, True),
    "max_tokens": (8192, 1, 1_000_000, True),
    "max_connections": (16, 1, 1024, True),
    "max_retries": (100, 0, 10_000, True),
    "timeout": (600, 1, 86_400, True),
}


def check_decoding_overrides(overrides: Mapping[str, Any] | None) -> dict[str, float | int]:
    """The decoding settings for ``inspect_config.yaml``: defaults, replaced by valid overrides.

    Raises:
        ConfigError: An unknown key (InspectLens would ignore it), a non-number, NaN/Infinity or a value
            out of range; every problem is listed.
    """
    out: dict[str, float | int] = {k: v[0] for k, v in DECODING_OVERRIDES.items()}
    problems: list[str] = []
    for key, value in (overrides or {}).items():
        spec = DECODING_OVERRIDES.get(key)
        if spec is None:
            problems.append(f"unknown override {key!r} (InspectLens accepts {', '.join(DECODING_OVERRIDES)})")
            continue
        _, low, high, integer = spec
        ok_type = isinstance(value, int) if integer else isinstance(value, (int, float))
        if isinstance(value, bool) or not ok_type:
            problems.append(f"{key}={value!r} must be {'an integer' if integer else 'a number'}")
        elif not math.isfinite(value):
            problems.append(f"{key}={value!r} must be finite")
        elif not low <= value <= high or (key == "top_k" and value == 0):
            problems.append(
                f"{key}={value!r} is outside [{low:g}, {high:g}]" + (" (and not 0)" if key == "top_k" else "")
            )
        else:
            out[key] = value
    if problems:
        raise ConfigError("Invalid InspectLens overrides: " + "; ".join(problems) + ".")
    return out


@dataclass
class InspectLensConfig:
    """Configuration of an InspectLens evaluation (``EvaluationTask.INSPECT_LENS``).

    Args:
        benchmarks_path: ``s3://`` prefix holding the benchmark ``.py`` files (required;
            ``ForgeEvaluator.upload_benchmarks`` uploads a local folder).
        tasks: ``[{"name": …, "path": "sub/file.py", "limit": int, "epochs": int, "task_args": {…}}]``;
            empty runs every ``@task`` found.
        output_s3_path: Where Inspect's logs go (default: ``<evaluator output>/inspectlens-results/``).
        output_format: ``"eval"``, ``"csv"``, ``"jsonl"`` or ``"json"``.
        bedrock_model_id: Bedrock model id or ARN to evaluate (Bedrock scenario).
        endpoint_name: An existing SageMaker endpoint to evaluate.
        model_s3_uri: Model artifacts for a new endpoint (with ``inference_image_uri``).
        inference_image_uri: ECR image of the new endpoint's container.
        endpoint_instance_type: Instance type of the new endpoint (``ml.*``).
        endpoint_instance_count: Instance count of the new endpoint (≥ 1).
        endpoint_execution_role_arn: Role of the new endpoint.
        context_length: Context length of the new endpoint (a positive integer, as a string).
        max_concurrency: Max concurrency of the endpoint (a positive integer, as a string).
        enable_rai: Keep the responsible-AI guardrails on.
        cleanup_endpoint: Delete the new endpoint after the run.
        endpoint_prefix: Name prefix of the new endpoint.
        endpoint_environment: Environment of the new endpoint's container.
        extra_args: Extra arguments for ``inspect eval``.
        environment: Environment of the orchestrator job (e.g. ``{"HF_TOKEN": …}``).

    Raises:
        ConfigError: Every invalid or conflicting field, listed in one message.
    """

    benchmarks_path: str | None = None
    tasks: list[InspectLensTask] = field(default_factory=list)
    output_s3_path: str | None = None
    output_format: str | None = None
    bedrock_model_id: str | None = None
    endpoint_name: str | None = None
    model_s3_uri: str | None = None
    inference_image_uri: str | None = None
    endpoint_instance_type: str | None = None
    endpoint_instance_count: int = 1
    endpoint_execution_role_arn: str | None = None
    context_length: str | None = None
    max_concurrency: str | None = None
    enable_rai: bool = True
    cleanup_endpoint: bool = True
    endpoint_prefix: str = "inspectlens"
    endpoint_environment: dict[str, str] | None = None
    extra_args: list[str] | None = None
    environment: dict[str, str] | None = None

    def __post_init__(self) -> None:
        problems = self._problems()
        if problems:
            raise ConfigError("Invalid InspectLensConfig:\n  - " + "\n  - ".join(problems))

    @property
    def scenario(self) -> Scenario:
        """The inference provider the fields select."""
        if self.endpoint_name is not None:
            return "existing_endpoint"
        if self.model_s3_uri is not None:
            return "create_endpoint"
        return "bedrock"

    def _infer_scenario(self) -> str:
        """The official name of :attr:`scenario`."""
        return self.scenario

    # ------------------------------------------------------------------ validation
    def _problems(self) -> list[str]:
        p: list[str] = []
        bp = self.benchmarks_path
        if not bp or not bp.strip():
            p.append(
                "benchmarks_path is required: an s3:// prefix with your @task .py files "
                "(upload a folder with evaluator.upload_benchmarks(local_dir, s3_path))"
            )
        elif not bp.startswith("s3://"):
            p.append(f"benchmarks_path must be an s3:// URI, got {bp!r}; upload it with evaluator.upload_benchmarks")
        p += self._task_problems()
        for name in ("output_s3_path", "model_s3_uri"):
            value = getattr(self, name)
            if value is not None and not str(value).startswith("s3://"):
                p.append(f"{name} must be an s3:// URI, got {value!r}")
        if self.output_format is not None and self.output_format not in _OUTPUT_FORMATS:
            p.append(f"output_format must be one of {', '.join(_OUTPUT_FORMATS)}, got {self.output_format!r}")
        if self.inference_image_uri is not None and not _ECR_URI.match(self.inference_image_uri):
            p.append(
                "inference_image_uri must be an ECR image <account>.dkr.ecr.<region>.amazonaws.com/<repo>:<tag>, "
                f"got {self.inference_image_uri!r}"
            )
        role = self.endpoint_execution_role_arn
        if role is not None and not _ROLE_ARN.match(role):
            p.append(f"endpoint_execution_role_arn must be an IAM role ARN, got {role!r}")
        if self.endpoint_instance_type is not None and not self.endpoint_instance_type.startswith("ml."):
            p.append(f"endpoint_instance_type must start with 'ml.', got {self.endpoint_instance_type!r}")
        count = self.endpoint_instance_count
        if isinstance(count, bool) or not isinstance(count, int) or count < 1:
            p.append(f"endpoint_instance_count must be an integer >= 1, got {count!r}")
        for name in ("context_length", "max_concurrency"):
            value = getattr(self, name)
            if value is not None and (not isinstance(value, str) or not value.isdigit() or int(value) <= 0):
                p.append(f"{name} must be a positive integer as a string (e.g. '8192'), got {value!r}")
        creating = any(
            getattr(self, f) is not None for f in ("model_s3_uri", "inference_image_uri", "endpoint_instance_type")
        )
        if self.endpoint_name is not None and creating:
            p.append(
                "endpoint_name evaluates an existing endpoint: drop model_s3_uri/inference_image_uri/endpoint_instance_type"
            )
        if self.endpoint_name is None and bool(self.model_s3_uri) != bool(self.inference_image_uri):
            p.append("a new endpoint needs both model_s3_uri and inference_image_uri")
        if self.bedrock_model_id is not None and self.scenario != "bedrock":
            p.append("bedrock_model_id applies to Bedrock inference only; drop it or the endpoint fields")
        for name in ("endpoint_environment", "environment"):
            env = getattr(self, name)
            if env is not None and (
                not isinstance(env, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in env.items())
            ):
                p.append(f"{name} must map strings to strings, got {env!r}")
        if self.extra_args is not None and (
            not isinstance(self.extra_args, list) or not all(isinstance(a, str) for a in self.extra_args)
        ):
            p.append(f"extra_args must be a list of strings, got {self.extra_args!r}")
        return p

    def _task_problems(self) -> list[str]:
        if not isinstance(self.tasks, list):
            return ["tasks must be a list of dicts, e.g. [{'name': 'boolq', 'limit': 100}]"]
        p: list[str] = []
        for i, t in enumerate(self.tasks):
            if not isinstance(t, dict):
                p.append(f"tasks[{i}] must be a dict with a 'name', got {t!r}")
                continue
            unknown = sorted(set(t) - _TASK_KEYS)
            if unknown:
                p.append(f"tasks[{i}] has unknown key(s) {unknown}; allowed: {sorted(_TASK_KEYS)}")
            if not isinstance(t.get("name"), str) or not t.get("name"):
                p.append(f"tasks[{i}] needs a 'name': the @task function to run")
            path = t.get("path")
            if path is not None and (
                not isinstance(path, str) or not path.endswith(".py") or path.startswith("/") or ".." in path.split("/")
            ):
                p.append(f"tasks[{i}].path must be a relative path to a .py file inside benchmarks_path, got {path!r}")
            for key in ("limit", "epochs"):
                v = t.get(key)
                if v is not None and (isinstance(v, bool) or not isinstance(v, int) or v < 1):
                    p.append(f"tasks[{i}].{key} must be an integer >= 1, got {v!r}")
            if t.get("task_args") is not None and not isinstance(t["task_args"], dict):
                p.append(f"tasks[{i}].task_args must be a dict, got {type(t['task_args']).__name__}")
        return p

    # ------------------------------------------------------------------ serialisation
    def inference_provider(self, *, region: str, default_model_id: str, model_path: str | None) -> dict[str, Any]:
        """The ``inference_provider`` block of ``inspect_config.yaml``.

        Args:
            region: AWS region of the endpoint or Bedrock.
            default_model_id: Bedrock id of the evaluated model (used when nothing else names one).
            model_path: The checkpoint or model ARN being evaluated, if any. An ``s3://`` checkpoint
                cannot be served by Bedrock: evaluating one needs an endpoint scenario.

        Raises:
            ConfigError: An ``s3://`` checkpoint in the Bedrock scenario.
        """
        if self.scenario == "existing_endpoint":
            ep: dict[str, Any] = {"endpoint_name": self.endpoint_name, "region": region}
        elif self.scenario == "create_endpoint":
            ep = {
                "endpoint_name": None,
                "region": region,
                "model_s3_uri": str(self.model_s3_uri).rstrip("/") + "/",
                "inference_image_uri": self.inference_image_uri,
                "cleanup_endpoint": self.cleanup_endpoint,
                "instance_count": self.endpoint_instance_count,
                "endpoint_prefix": self.endpoint_prefix,
            }
            for key, value in (
                ("instance_type", self.endpoint_instance_type),
                ("execution_role_arn", self.endpoint_execution_role_arn),
                ("environment", self.endpoint_environment),
            ):
                if value is not None:
                    ep[key] = value
        else:
            if model_path is not None and model_path.startswith("s3://"):
                raise ConfigError(
                    f"{model_path} is an S3 checkpoint, which Bedrock cannot serve. Evaluate it on an endpoint: "
                    "set endpoint_name, or model_s3_uri + inference_image_uri, in InspectLensConfig."
                )
            model_id = model_path or self.bedrock_model_id or default_model_id
            return {"bedrock": {"model_id": model_id, "region": region}}
        if self.context_length:
            ep["context_length"] = self.context_length
        if self.max_concurrency:
            ep["max_concurrency"] = self.max_concurrency
        ep["enable_rai"] = self.enable_rai
        return {"sagemaker_endpoint": ep}

    def to_yaml_dict(
        self,
        inference_provider: Mapping[str, Any],
        output_s3_path: str,
        overrides: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        """The content of ``inspect_config.yaml`` that the InspectLens container reads."""
        d = check_decoding_overrides(overrides)
        benchmarks: dict[str, Any] = {"tasks": list(self.tasks)}
        if self.benchmarks_path is not None:
            benchmarks["s3_path"] = self.benchmarks_path
        config: dict[str, Any] = {
            "inference_provider": dict(inference_provider),
            "benchmarks": benchmarks,
            "eval": {
                "max_connections": d["max_connections"],
                "max_retries": d["max_retries"],
                "timeout": d["timeout"],
                "decoding": {k: d[k] for k in ("temperature", "top_p", "top_k", "max_tokens")},
            },
            "output": {"s3_path": output_s3_path},
        }
        if self.output_format:
            config["output"]["output_format"] = self.output_format
        if self.extra_args:
            config["eval"]["extra_args"] = list(self.extra_args)
        return config
