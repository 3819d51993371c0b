"""Every enum of the published API, with all values and attributes.

Enums subclass ``(str, Enum)`` where their value is a string so they compare to
strings and serialise to JSON as-is.
"""

from __future__ import annotations

import difflib
from enum import Enum

__all__ = [
    "DeployPlatform",
    "DeploymentMode",
    "EnvType",
    "EvaluationMetric",
    "EvaluationStrategy",
    "EvaluationTask",
    "FilterMethod",
    "JobStatus",
    "Model",
    "ModelStatus",
    "Platform",
    "SMTJRuntimeMode",
    "TrainingMethod",
    "TransformMethod",
    "VFEnvId",
    "ValidateMethod",
    "Version",
]


class Version(Enum):
    """Nova model generation."""

    ONE = 1
    TWO = 2


class Model(Enum):
    """A Nova model that can be customized.

    Attributes:
        model_type: The model type string used in recipes (``run.model_type``).
        model_path: The base model path used in recipes (``run.model_name_or_path``).
        version: :class:`Version` of the model.
        context_length: Context length in tokens.
        hub_content_name: The model's hub content in ``SageMakerPublicHub``.

    Example:
        >>> Model("nova_lite_2") is Model.NOVA_LITE_2 is Model["NOVA_LITE_2"]
        True
        >>> Model.from_model_type("amazon.nova-micro-v1:0:128k") is Model.NOVA_MICRO
        True
        >>> Model.NOVA_LITE_2.version
        <Version.TWO: 2>
    """

    NOVA_MICRO = ("nova_micro", Version.ONE, "amazon.nova-micro-v1:0:128k", "nova-micro/prod", 128_000)
    NOVA_LITE = ("nova_lite", Version.ONE, "amazon.nova-lite-v1:0:300k", "nova-lite/prod", 300_000)
    NOVA_LITE_2 = ("nova_lite_2", Version.TWO, "amazon.nova-2-lite-v1:0:256k", "nova-lite-2/prod", 256_000)
    NOVA_PRO = ("nova_pro", Version.ONE, "amazon.nova-pro-v1:0:300k", "nova-pro/prod", 300_000)

    @property
    def hub_content_name(self) -> str:
        """The model's hub content in the SageMaker public hub, e.g. ``nova-textgeneration-lite-v2``."""
        return _HUB_CONTENT_NAMES[self.key]

    key: str
    version: Version
    model_type: str
    model_path: str
    context_length: int

    def __new__(cls, key: str, version: Version, model_type: str, model_path: str, context_length: int) -> Model:
        # the value is the short key, so ``Model("nova_lite_2")`` works as in the official SDK
        obj = object.__new__(cls)
        obj._value_ = key
        obj.key = key
        obj.version = version
        obj.model_type = model_type
        obj.model_path = model_path
        obj.context_length = context_length
        return obj

    @property
    def bedrock_model_id(self) -> str:
        """Bedrock base model id, e.g. ``amazon.nova-2-lite-v1:0:256k`` → ``amazon.nova-2-lite-v1:0``."""
        return self.model_type.rsplit(":", 1)[0]

    @classmethod
    def from_model_type(cls, model_type: str) -> Model:
        """Return the model whose ``model_type`` is ``model_type``.

        Raises:
            ValueError: No such model type; the message lists the known ones.
        """
        for m in cls:
            if m.model_type == model_type:
                return m
        known = [m.model_type for m in cls]
        hint = difflib.get_close_matches(model_type, known, n=1)
        raise ValueError(
            f"Unknown model type {model_type!r}. Known model types: {', '.join(known)}."
            + (f" Did you mean {hint[0]!r}?" if hint else "")
        )

    @classmethod
    def from_model_name(cls, name: str) -> Model:
        """Return the model by enum name (``"NOVA_LITE_2"``) or key (``"nova_lite_2"``)."""
        for m in cls:
            if name in (m.name, m.key):
                return m
        raise ValueError(f"Unknown model {name!r}. Known models: {', '.join(m.name for m in cls)}.")


_HUB_CONTENT_NAMES = {
    "nova_micro": "nova-textgeneration-micro",
    "nova_lite": "nova-textgeneration-lite",
    "nova_lite_2": "nova-textgeneration-lite-v2",
    "nova_pro": "nova-textgeneration-pro",
}


class TrainingMethod(str, Enum):
    """A customization method."""

    CPT = "cpt"
    DPO_LORA = "dpo_lora"
    DPO_FULL = "dpo_full"
    SFT_LORA = "sft_lora"
    SFT_FULL = "sft_full"
    RFT_LORA = "rft_lora"
    RFT_FULL = "rft_full"
    RFT_MULTITURN_LORA = "rft_multiturn_lora"
    RFT_MULTITURN_FULL = "rft_multiturn_full"
    EVALUATION = "evaluation"

    @property
    def is_lora(self) -> bool:
        """True for the parameter-efficient (LoRA) variants."""
        return self.value.endswith("_lora")

    @property
    def family(self) -> str:
        """``"sft"``, ``"dpo"``, ``"cpt"``, ``"rft"``, ``"rft_multiturn"`` or ``"evaluation"``."""
        v = self.value
        for suffix in ("_lora", "_full"):
            if v.endswith(suffix):
                return v[: -len(suffix)]
        return v

    def __str__(self) -> str:
        return self.value


class Platform(str, Enum):
    """Where a job runs."""

    SMTJ = "SMTJ"
    SMHP = "SMHP"
    BEDROCK = "BEDROCK"
    SMTJServerless = "SMTJServerless"
    LOCAL = "LOCAL"
    GLUE = "GLUE"  # data preparation on AWS Glue for Ray (legacy; closed to new customers 2026-04-30)

    def __str__(self) -> str:
        return self.value


class DeployPlatform(str, Enum):
    """Where a model is deployed for inference."""

    BEDROCK_OD = "bedrock_od"
    BEDROCK_PT = "bedrock_pt"
    SAGEMAKER = "sagemaker"
    LOCAL = "local"


class DeploymentMode(str, Enum):
    """What ``deploy`` does when the endpoint name already exists."""

    FAIL_IF_EXISTS = "fail_if_exists"
    UPDATE_IF_EXISTS = "update_if_exists"


class EvaluationTask(str, Enum):
    """Evaluation tasks: public benchmarks, bring-your-own-data and judges.

    Attributes:
        strategy: The recipe's ``evaluation.strategy`` for this task.
        metric: The recipe's ``evaluation.metric`` for this task.
        is_byod: True when the task reads the user's dataset (``data_s3_path``).
        recipe_task: The value written to the recipe's ``evaluation.task``.
    """

    MMLU = "mmlu"
    MMLU_PRO = "mmlu_pro"
    BBH = "bbh"
    GPQA = "gpqa"
    MATH = "math"
    STRONG_REJECT = "strong_reject"
    IFEVAL = "ifeval"
    HUMANEVAL = "humaneval"
    MMMU = "mmmu"
    GEN_QA = "gen_qa"
    LLM_JUDGE = "llm_judge"
    MM_LLM_JUDGE = "mm_llm_judge"
    RUBRIC_LLM_JUDGE = "rubric_llm_judge"
    RFT_EVAL = "rft_eval"
    RFT_MULTITURN_EVAL = "rft_multiturn_eval"
    #: Your own Inspect AI benchmarks, run by InspectLens (``ForgeEvaluator``, ``InspectLensConfig``).
    INSPECT_LENS = "inspect_lens"

    @property
    def strategy(self) -> str:
        return _EVAL_STRATEGY[self]

    @property
    def metric(self) -> str:
        return _EVAL_METRIC[self]

    @property
    def is_byod(self) -> bool:
        return self in _BYOD_TASKS

    @property
    def recipe_task(self) -> str:
        return "rft_eval" if self is EvaluationTask.RFT_MULTITURN_EVAL else self.value

    def get_recipe_value(self) -> str:
        """The value written to the recipe's ``evaluation.task`` (``rft_eval`` for multi-turn RFT).

        Example:
            >>> EvaluationTask.RFT_MULTITURN_EVAL.get_recipe_value()
            'rft_eval'
        """
        return self.recipe_task

    @property
    def subtasks(self) -> tuple[str, ...]:
        """Known subtasks for this task (empty when the task has none or they are unpublished)."""
        from amzn_nova_forge.core._subtasks import SUBTASKS

        return SUBTASKS.get(self.value, ())


_EVAL_STRATEGY = {
    EvaluationTask.MMLU: "zs_cot",
    EvaluationTask.MMLU_PRO: "zs_cot",
    EvaluationTask.BBH: "fs_cot",
    EvaluationTask.GPQA: "zs_cot",
    EvaluationTask.MATH: "zs_cot",
    EvaluationTask.STRONG_REJECT: "zs",
    EvaluationTask.IFEVAL: "zs",
    EvaluationTask.HUMANEVAL: "zs",
    EvaluationTask.MMMU: "zs_cot",
    EvaluationTask.GEN_QA: "gen_qa",
    EvaluationTask.LLM_JUDGE: "judge",
    EvaluationTask.MM_LLM_JUDGE: "judge",
    EvaluationTask.RUBRIC_LLM_JUDGE: "judge",
    EvaluationTask.RFT_EVAL: "rft_eval",
    EvaluationTask.RFT_MULTITURN_EVAL: "rft_eval",
    EvaluationTask.INSPECT_LENS: "inspect_lens",
}
_EVAL_METRIC = {
    EvaluationTask.MMLU: "accuracy",
    EvaluationTask.MMLU_PRO: "accuracy",
    EvaluationTask.BBH: "accuracy",
    EvaluationTask.GPQA: "accuracy",
    EvaluationTask.MATH: "exact_match",
    EvaluationTask.STRONG_REJECT: "deflection",
    EvaluationTask.IFEVAL: "accuracy",
    EvaluationTask.HUMANEVAL: "pass@1",
    EvaluationTask.MMMU: "accuracy",
    EvaluationTask.GEN_QA: "all",
    EvaluationTask.LLM_JUDGE: "all",
    EvaluationTask.MM_LLM_JUDGE: "all",
    EvaluationTask.RUBRIC_LLM_JUDGE: "all",
    EvaluationTask.RFT_EVAL: "all",
    EvaluationTask.RFT_MULTITURN_EVAL: "all",
    EvaluationTask.INSPECT_LENS: "all",
}
_BYOD_TASKS = frozenset(
    {
        EvaluationTask.GEN_QA,
        EvaluationTask.LLM_JUDGE,
        EvaluationTask.MM_LLM_JUDGE,
        EvaluationTask.RUBRIC_LLM_JUDGE,
        EvaluationTask.RFT_EVAL,
        EvaluationTask.RFT_MULTITURN_EVAL,
    }
)


class JobStatus(str, Enum):
    """Normalised job status. ``get_job_status()`` also returns the platform's raw word.

    Transitional raw statuses (``"Stopping"``, ``"Pending"``, ``"Starting"`` …) are
    ``IN_PROGRESS``; a raw status the SDK does not know is ``UNKNOWN`` — never FAILED.
    """

    IN_PROGRESS = "InProgress"
    COMPLETED = "Completed"
    FAILED = "Failed"
    STOPPED = "Stopped"
    UNKNOWN = "Unknown"

    @property
    def is_terminal(self) -> bool:
        return self in (JobStatus.COMPLETED, JobStatus.FAILED, JobStatus.STOPPED)

    @classmethod
    def from_raw(cls, raw: str | None) -> JobStatus:
        """Map a platform's raw status word to a :class:`JobStatus` (case-insensitive)."""
        if not raw:
            return cls.UNKNOWN
        key = raw.strip().lower().replace("_", "").replace("-", "").replace(" ", "")
        return _RAW_STATUS.get(key, cls.UNKNOWN)


_RAW_STATUS = {
    # in progress / transitional
    **{
        k: JobStatus.IN_PROGRESS
        for k in (
            "inprogress",
            "running",
            "created",
            "creating",
            "pending",
            "starting",
            "queued",
            "submitted",
            "stopping",
            "downloading",
            "training",
            "uploading",
            "launching",
            "provisioning",
            "restarting",
            "suspended",
            "validating",
        )
    },
    **{k: JobStatus.COMPLETED for k in ("completed", "succeeded", "success", "complete")},
    **{k: JobStatus.FAILED for k in ("failed", "error", "fault")},
    **{k: JobStatus.STOPPED for k in ("stopped", "cancelled", "canceled", "terminated")},
}


class EnvType(str, Enum):
    """RFT multiturn environment kind."""

    TRAIN = "train"
    EVAL = "eval"
    SAM = "sam"


class VFEnvId(str, Enum):
    """Built-in RFT multiturn (verifiers) environments."""

    WORDLE = "wordle"
    TERMINAL_BENCH = "terminalbench_env"


class EvaluationStrategy(str, Enum):
    """How an evaluation task prompts the model (the recipe's ``strategy``)."""

    ZERO_SHOT = "zs"
    ZERO_SHOT_COT = "zs_cot"
    FEW_SHOT = "fs"
    FEW_SHOT_COT = "fs_cot"
    GEN_QA = "gen_qa"
    JUDGE = "judge"
    RFT_EVAL = "rft_eval"

    def __str__(self) -> str:
        return self.value


class EvaluationMetric(str, Enum):
    """The metric an evaluation task reports (the recipe's ``metric``)."""

    ACCURACY = "accuracy"
    EXACT_MATCH = "exact_match"
    DEFLECTION = "deflection"
    PASS_AT_1 = "pass@1"
    ALL = "all"

    def __str__(self) -> str:
        return self.value


class ModelStatus(str, Enum):
    """State of a custom model being imported for deployment (Bedrock ``CreateCustomModel``)."""

    CREATING = "CREATING"
    ACTIVE = "ACTIVE"
    FAILED = "FAILED"
    UNKNOWN = "UNKNOWN"

    def __str__(self) -> str:
        return self.value


class FilterMethod(str, Enum):
    """Data-curation filters for ``loader.filter(method=...)``."""

    DEFAULT_TEXT_FILTER = "default_text_filter"
    EXACT_DEDUP = "exact_dedup_filter"
    FUZZY_DEDUP = "fuzzy_dedup"
    INVALID_RECORDS = "invalid_records_filter"
    LANGUAGE_DETECTION = "language_detection"

    def __str__(self) -> str:
        return self.value


class TransformMethod(str, Enum):
    """Dataset transforms for ``loader.transform(method=...)`` (current call form)."""

    SCHEMA = "schema"

    def __str__(self) -> str:
        return self.value


class ValidateMethod(str, Enum):
    """Dataset validations for ``loader.validate(method=...)`` (current call form).

    ``SCHEMA`` is the older name of ``INVALID_RECORDS``; both run the same checks.
    """

    SCHEMA = "schema"
    INVALID_RECORDS = "invalid_records"

    def __str__(self) -> str:
        return self.value


class SMTJRuntimeMode(str, Enum):
    """What an ``SMTJRuntimeManager`` submits: training jobs (default) or data-preparation jobs."""

    TRAINING = "training"
    DATA_PREP = "data_prep"

    def __str__(self) -> str:
        return self.value
