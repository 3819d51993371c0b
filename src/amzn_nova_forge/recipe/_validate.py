"""Override and recipe validation with explanations, instance matrix and region checks.

Every refusal names the key, the value and what is allowed, so a bad value is caught before a
job burns GPU hours.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Any

from amzn_nova_forge.core.enums import EvaluationTask, Model, Platform, TrainingMethod
from amzn_nova_forge.errors import (
    InstanceConfigError,
    RecipeOverrideError,
    RecipeValidationError,
    UnsupportedRegionError,
)

__all__ = [
    "DATA_MIXING_KEYS",
    "check_finite",
    "check_region",
    "check_value",
    "describe_allowed",
    "resolve_key",
    "validate_data_mixing",
    "validate_instance",
]

S3_URI = re.compile(r"^s3://([a-zA-Z0-9.\-_]+)/(.+)$")
LAMBDA_ARN = re.compile(r"^arn:aws[a-zA-Z-]*:lambda:[a-z0-9-]+:\d{12}:function:[A-Za-z0-9\-_]+(:[A-Za-z0-9\-_$]+)?$")
HUB_CONTENT_ARN = re.compile(r"^arn:aws[a-zA-Z-]*:sagemaker:[a-z0-9-]+:\d{12}:hub-content/.+$")
MODEL_PACKAGE_ARN = re.compile(r"^arn:aws[\w-]*:sagemaker:[a-z0-9-]+:\d{12}:model-package/.+$")
#: Keys that are never overridden, with the way to change them instead.
FIXED_KEYS = {
    "model_type": "it follows the model; choose another Model instead",
    "peft_scheme": "it follows the training method; choose a *_LORA or *_FULL TrainingMethod instead",
    "task": "it follows eval_task; pass another EvaluationTask instead",
    "strategy": "it follows eval_task; pass another EvaluationTask instead",
    "metric": "it follows eval_task; pass another EvaluationTask instead",
    "task_type": "it follows the training method",
}
DATA_MIXING_HINT = "data mixing percentages are set with customizer.set_data_mixing_config(...), not overrides"
_TYPE_NAMES = {
    "integer": "an integer",
    "float": "a number",
    "boolean": "true or false",
    "string": "a string",
    "list": "a list",
    "dict": "a mapping",
}


def is_finite_number(value: Any) -> bool:
    """True for an int, or a float that is neither NaN nor infinite (booleans are not numbers)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return False
    return isinstance(value, int) or math.isfinite(value)


def check_finite(value: Any, where: str, *, recipe: str | None = None) -> None:
    """Refuse NaN and infinities anywhere inside ``value`` (mappings and lists are walked).

    Raises:
        RecipeValidationError: names ``where`` and the path of the first non-finite number.

    Example:
        >>> check_finite({"a": [1, 2.5]}, "overrides")
    """
    stack: list[tuple[str, Any]] = [(where, value)]
    while stack:
        path, v = stack.pop()
        if isinstance(v, float) and not math.isfinite(v):
            raise RecipeValidationError(
                f"{path} is {v!r}; NaN and infinite numbers are not accepted. Give a finite number.", recipe=recipe
            )
        if isinstance(v, Mapping):
            stack.extend((f"{path}.{k}", x) for k, x in v.items())
        elif isinstance(v, (list, tuple)):
            stack.extend((f"{path}[{i}]", x) for i, x in enumerate(v))


def is_interpolation(value: Any) -> bool:
    """True for OmegaConf interpolations such as ``${oc.select:training_config.max_steps}``."""
    return isinstance(value, str) and value.startswith("${") and value.endswith("}")


def describe_allowed(spec: Mapping[str, Any]) -> str:
    """Human-readable description of what a parameter accepts, e.g. ``a number in [0.0, 1.0]``."""
    typ = spec.get("type", "any")
    if "enum" in spec:
        vals = ", ".join("null" if v is None else repr(v) for v in spec["enum"])
        text = f"one of {{{vals}}}"
    else:
        text = _TYPE_NAMES.get(typ, "any value")
        lo, hi = spec.get("min"), spec.get("max")
        if lo is not None and hi is not None:
            text += f" in [{lo}, {hi}]"
        elif lo is not None:
            text += f" >= {lo}"
        elif hi is not None:
            text += f" <= {hi}"
        if spec.get("multiple_of"):
            text += f", a multiple of {spec['multiple_of']}"
    if spec.get("nullable") and "enum" not in spec:
        text += " (or null)"
    return text


def resolve_key(key: str, aliases: Mapping[str, str], *, template_id: str) -> str:
    """Map an override key (or alias) to its canonical key; unknown keys get a "did you mean"."""
    canonical = aliases.get(key)
    if canonical is not None:
        return canonical
    if key in FIXED_KEYS:
        raise RecipeOverrideError(
            f"Override {key!r} cannot be set: {FIXED_KEYS[key]}.", key=key, allowed=FIXED_KEYS[key], recipe=template_id
        )
    if key in ("customer_data_percent", "dataset_catalog") or (key.startswith("nova_") and key.endswith("_percent")):
        raise RecipeOverrideError(
            f"Override {key!r} is not a recipe key: {DATA_MIXING_HINT}.", key=key, recipe=template_id
        )
    import difflib

    known = sorted(set(aliases.values()))
    close = difflib.get_close_matches(key, list(aliases), n=3, cutoff=0.6)
    hint = f" Did you mean {' or '.join(repr(aliases[c]) for c in dict.fromkeys(close))}?" if close else ""
    raise RecipeOverrideError(
        f"Unknown override {key!r} for recipe {template_id}.{hint} Accepted keys: {', '.join(known)}.",
        key=key,
        allowed=known,
        recipe=template_id,
    )


def _fail(key: str, value: Any, spec: Mapping[str, Any], template_id: str, why: str = "") -> RecipeOverrideError:
    allowed = describe_allowed(spec)
    return RecipeOverrideError(
        f"Invalid value for {key!r}: {value!r}{why}. Allowed: {allowed} (recipe {template_id}).",
        key=key,
        value=value,
        allowed=allowed,
        recipe=template_id,
    )


def check_value(key: str, value: Any, spec: Mapping[str, Any], *, template_id: str) -> Any:
    """Check one value against its parameter spec; return it coerced (int → float, "1e-5" → 1e-05).

    Raises:
        RecipeOverrideError: wrong type, out of range, not in the enum or not a multiple.
    """
    if value is None:
        if spec.get("nullable") or spec.get("type") == "any" or (spec.get("enum") and None in spec["enum"]):
            return None
        raise _fail(key, value, spec, template_id, " (a value is required)")
    if is_interpolation(value):
        return value
    typ = spec.get("type", "any")
    if typ == "float":
        if isinstance(value, str):
            try:
                value = float(value)
            except ValueError:
                raise _fail(key, value, spec, template_id, " (not a number)") from None
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise _fail(key, value, spec, template_id, f" (got {type(value).__name__})")
        try:
            value = float(value)
        except OverflowError:
            raise _fail(key, value, spec, template_id, " (too large)") from None
        if not math.isfinite(value):
            raise _fail(key, value, spec, template_id, " (NaN and infinity are not numbers a recipe accepts)")
    elif typ == "integer":
        if isinstance(value, bool) or not isinstance(value, int):
            if isinstance(value, float) and value.is_integer():
                raise _fail(
                    key, value, spec, template_id, " (an integer is required, write it without a decimal point)"
                )
            raise _fail(key, value, spec, template_id, f" (got {type(value).__name__})")
    elif typ == "boolean":
        if not isinstance(value, bool):
            raise _fail(key, value, spec, template_id, f" (got {type(value).__name__})")
    elif typ == "string":
        if not isinstance(value, str):
            raise _fail(key, value, spec, template_id, f" (got {type(value).__name__})")
    elif typ == "list":
        if not isinstance(value, (list, tuple)):
            raise _fail(key, value, spec, template_id, f" (got {type(value).__name__})")
        value = list(value)
    elif typ == "dict" and not isinstance(value, Mapping):
        raise _fail(key, value, spec, template_id, f" (got {type(value).__name__})")
    if isinstance(value, float) and not math.isfinite(value):
        raise _fail(key, value, spec, template_id, " (NaN and infinity are not accepted)")
    if isinstance(value, (list, tuple, Mapping)):
        check_finite(value, key, recipe=template_id)
    enum = spec.get("enum")
    if enum is not None and value not in enum and not (value == "" and typ == "string"):
        raise _fail(key, value, spec, template_id)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        lo, hi = spec.get("min"), spec.get("max")
        if (lo is not None and value < lo) or (hi is not None and value > hi):
            raise _fail(key, value, spec, template_id, " (out of range)")
        mult = spec.get("multiple_of")
        if mult and value % mult:
            raise _fail(key, value, spec, template_id, f" (not a multiple of {mult})")
    return value


def validate_instance(
    platform: Platform,
    model: Model,
    method: TrainingMethod,
    instance_type: str,
    instance_count: int,
    *,
    eval_task: EvaluationTask | None = None,
    batch_inference: bool = False,
) -> None:
    """Check that (instance_type, instance_count) is allowed for (platform, model, method).

    Bedrock, SMTJ Serverless and Local choose their own hardware: nothing is checked there.

    Raises:
        InstanceConfigError: the type or count is not allowed; the message lists the allowed ones.
        UnsupportedFeatureError: the method is not offered for this model on this platform.

    Example:
        >>> validate_instance(Platform.SMTJ, Model.NOVA_LITE_2, TrainingMethod.SFT_LORA, "ml.p5.48xlarge", 4)
    """
    from amzn_nova_forge.recipe._catalogue import catalogue

    if platform in (Platform.BEDROCK, Platform.SMTJServerless, Platform.LOCAL):
        return
    key = method_key(method, eval_task=eval_task, batch_inference=batch_inference)
    entry = catalogue().require(model, key, platform)
    allowed = entry.allowed_instances()
    if not allowed:
        return
    what = f"{model.name} {_what(key)} on {platform.value}"
    table = "; ".join(f"{t} ({', '.join(map(str, c))})" for t, c in allowed.items())
    if instance_type not in allowed:
        raise InstanceConfigError(
            f"Instance type {instance_type!r} is not allowed for {what}. Allowed types (counts): {table}.",
            instance_type=instance_type,
            instance_count=instance_count,
            allowed=allowed,
        )
    counts = allowed[instance_type]
    if isinstance(instance_count, bool) or not isinstance(instance_count, int) or instance_count not in counts:
        raise InstanceConfigError(
            f"Instance count {instance_count!r} is not allowed for {what} on {instance_type}. "
            f"Allowed counts: {', '.join(map(str, counts))}. All allowed types (counts): {table}.",
            instance_type=instance_type,
            instance_count=instance_count,
            allowed=allowed,
        )


def method_key(
    method: TrainingMethod | None, *, eval_task: EvaluationTask | None = None, batch_inference: bool = False
) -> str:
    """The catalogue key: the method value, or ``eval:<kind>`` for evaluation / batch inference."""
    from amzn_nova_forge.recipe._catalogue import eval_kind

    if batch_inference:
        return "eval:byod"
    if eval_task is not None:
        return "eval:" + eval_kind(EvaluationTask(eval_task))
    if method is None or method is TrainingMethod.EVALUATION:
        raise RecipeValidationError("An evaluation recipe needs eval_task (an EvaluationTask).")
    return TrainingMethod(method).value


def _what(key: str) -> str:
    if key == "eval:byod":
        return "evaluation/batch inference (gen_qa)"
    if key.startswith("eval:"):
        return f"evaluation ({key[5:]})"
    return TrainingMethod(key).name


def check_region(region: str, platform: Platform) -> str:
    """Return ``region`` if Nova customization is offered there on ``platform``.

    LOCAL accepts any region.

    Raises:
        UnsupportedRegionError: (a ``ValueError``) listing the supported regions.

    Example:
        >>> check_region("us-east-1", Platform.BEDROCK)
        'us-east-1'
    """
    from amzn_nova_forge.recipe._catalogue import catalogue

    platform = Platform(platform)
    if platform is Platform.LOCAL:
        return region
    supported = catalogue().regions.get(platform.value, [])
    if region not in supported:
        raise UnsupportedRegionError(region, supported)
    return region


DATA_MIXING_PLATFORMS = (Platform.SMHP, Platform.SMTJServerless)
#: The data-mixing keys Nova recipes define (``nova_<source>_percent`` per Nova data source).
DATA_MIXING_KEYS = (
    "customer_data_percent",
    "nova_code_percent",
    "nova_general_percent",
    "nova_math_percent",
    "nova_image_percent",
)
DATA_MIXING_METHODS = (TrainingMethod.CPT, TrainingMethod.SFT_LORA, TrainingMethod.SFT_FULL)


def validate_data_mixing(config: Mapping[str, Any], platform: Platform, method: TrainingMethod) -> dict[str, float]:
    """Validate a data-mixing config; return ``{key: float percent}`` (``dataset_catalog`` dropped).

    Rules: only SMHP and SMTJ Serverless with CPT / SFT; every percentage numeric and within 0–100;
    when ``customer_data_percent`` is 100 the Nova percentages sum to 0, otherwise they sum to 100.

    Raises:
        RecipeValidationError: the rule broken, with the values.
    """
    if platform not in DATA_MIXING_PLATFORMS or method not in DATA_MIXING_METHODS:
        raise RecipeValidationError(
            f"Data mixing is not supported for {TrainingMethod(method).name} on {Platform(platform).value}. "
            f"It is supported on {', '.join(p.value for p in DATA_MIXING_PLATFORMS)} for "
            f"{', '.join(m.name for m in DATA_MIXING_METHODS)}."
        )
    out: dict[str, float] = {}
    for key, value in config.items():
        if key == "dataset_catalog" or value is None:
            continue
        if key not in DATA_MIXING_KEYS:
            import difflib

            close = difflib.get_close_matches(str(key), DATA_MIXING_KEYS, n=1, cutoff=0.6)
            hint = f" Did you mean {close[0]!r}?" if close else ""
            raise RecipeValidationError(
                f"Unknown data mixing key {key!r}.{hint} Known keys: {', '.join(DATA_MIXING_KEYS)}."
            )
        if not is_finite_number(value):
            raise RecipeValidationError(f"Data mixing {key}={value!r} must be a finite number between 0 and 100.")
        if not 0 <= value <= 100:
            raise RecipeValidationError(f"Data mixing {key}={value!r} is out of range; allowed: 0 to 100.")
        out[key] = float(value)
    nova = {k: v for k, v in out.items() if k != "customer_data_percent"}
    total = sum(nova.values())
    if out.get("customer_data_percent") == 100.0:
        if total > 0.01:
            raise RecipeValidationError(
                f"customer_data_percent is 100, so the Nova percentages must sum to 0 (they sum to {total:g})."
            )
    elif nova and abs(total - 100.0) > 0.01:
        parts = ", ".join(f"{k}={v:g}" for k, v in nova.items())
        raise RecipeValidationError(f"The Nova data percentages must sum to 100; they sum to {total:g} ({parts}).")
    return out
