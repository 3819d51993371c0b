"""Typed settings of a SageMaker Nova endpoint: its container environment and inference components.

:class:`SageMakerEndpointEnvironment` is the typed form of the Nova inference container's
environment (``CONTEXT_LENGTH``, ``MAX_CONCURRENCY``, sampling defaults, speculative
decoding, fp8). Every field is checked when the object is built; the (model, instance
type) tiers are checked by :meth:`SageMakerEndpointEnvironment.validate_smi_config_bounds`.
A plain dict of environment variables is still accepted wherever this class is.

:class:`InferenceComponentConfig` describes one inference component (one model copy
with its CPU, accelerator and memory reservation) on an inference-component endpoint.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from amzn_nova_forge.core.enums import Model
from amzn_nova_forge.errors import ConfigError

__all__ = ["IC_MIN_COMPUTE", "InferenceComponentConfig", "SageMakerEndpointEnvironment", "environment_dict"]

#: field -> (type, low, high, low is exclusive, extra allowed values)
_BOUNDS: dict[str, tuple[type, float | None, float | None, bool, tuple[Any, ...]]] = {
    "context_length": (int, 0, None, True, ()),
    "max_concurrency": (int, 0, None, True, ()),
    "default_temperature": (float, 0, 2, False, ()),
    "default_top_p": (float, 1e-10, 1, False, ()),
    "default_top_k": (int, 0, None, True, (-1,)),
    "default_max_new_tokens": (int, 0, None, True, ()),
    "default_logprobs": (int, 1, 20, False, ()),
    "num_speculative_tokens": (int, 1, 10, False, ()),
    "suffix_decoding_max_tree_depth": (int, 0, None, True, ()),
    "suffix_decoding_max_cached_requests": (int, 0, None, False, ()),
    "suffix_decoding_max_spec_factor": (float, 0, None, False, ()),
    "suffix_decoding_min_token_prob": (float, 0, 1, False, ()),
}
_CHOICES: dict[str, tuple[str, ...]] = {
    "speculative_decoding_method": ("eagle3", "suffix"),
    "disable_speculative_decoding": ("true", "false"),
    "kv_cache_dtype": ("fp8",),
    "quantization_dtype": ("fp8",),
}


@dataclass(frozen=True)
class SageMakerEndpointEnvironment:
    """The Nova inference container's environment, checked when built.

    Args:
        context_length: Longest prompt + answer in tokens (> 0). Default 4000.
        max_concurrency: Requests served at once (> 0). Default 1.
        default_temperature: Sampling temperature, 0–2.
        default_top_p: Nucleus sampling, 1e-10–1.
        default_top_k: Top-k sampling, -1 (off) or >= 1.
        default_max_new_tokens: Answer length limit (> 0).
        default_logprobs: Log-probabilities returned per token, 1–20.
        speculative_decoding_method: ``"eagle3"`` or ``"suffix"``.
        disable_speculative_decoding: ``"true"`` or ``"false"``.
        num_speculative_tokens: 1–10.
        suffix_decoding_max_tree_depth: > 0.
        suffix_decoding_max_cached_requests: >= 0.
        suffix_decoding_max_spec_factor: >= 0.
        suffix_decoding_min_token_prob: 0–1.
        kv_cache_dtype: ``"fp8"``.
        quantization_dtype: ``"fp8"``.

    Raises:
        ConfigError: A value is of the wrong type or out of range (the message gives the range).

    Example:
        >>> env = SageMakerEndpointEnvironment(context_length=8000, max_concurrency=4)
        >>> env.to_env_dict()
        {'CONTEXT_LENGTH': '8000', 'MAX_CONCURRENCY': '4'}
    """

    context_length: int = 4000
    max_concurrency: int = 1
    default_temperature: float | None = None
    default_top_p: float | None = None
    default_top_k: int | None = None
    default_max_new_tokens: int | None = None
    default_logprobs: int | None = None
    speculative_decoding_method: str | None = None
    disable_speculative_decoding: str | None = None
    num_speculative_tokens: int | None = None
    suffix_decoding_max_tree_depth: int | None = None
    suffix_decoding_max_cached_requests: int | None = None
    suffix_decoding_max_spec_factor: float | None = None
    suffix_decoding_min_token_prob: float | None = None
    kv_cache_dtype: str | None = None
    quantization_dtype: str | None = None

    def __post_init__(self) -> None:
        for name, (kind, lo, hi, lo_open, allow) in _BOUNDS.items():
            value = getattr(self, name)
            if value is None:
                continue
            ok_type = isinstance(value, (int, float)) and not isinstance(value, bool)
            if kind is int and ok_type and float(value) != int(value):
                ok_type = False
            if not ok_type:
                raise ConfigError(f"SageMakerEndpointEnvironment.{name}={value!r} must be a {kind.__name__}.")
            object.__setattr__(self, name, kind(value))
            v = float(value)
            if value in allow:
                continue
            if (lo is not None and (v <= lo if lo_open else v < lo)) or (hi is not None and v > hi):
                rng = " and ".join(
                    t
                    for t in (
                        "" if lo is None else (f"> {lo}" if lo_open else f">= {lo}"),
                        "" if hi is None else f"<= {hi}",
                    )
                    if t
                )
                extra = f" (or {', '.join(map(str, allow))})" if allow else ""
                raise ConfigError(f"SageMakerEndpointEnvironment.{name}={value!r} must be {rng}{extra}.")
        for name, choices in _CHOICES.items():
            value = getattr(self, name)
            if value is None:
                continue
            text = str(value).strip().lower()
            if text not in choices:
                raise ConfigError(f"SageMakerEndpointEnvironment.{name}={value!r} must be one of {', '.join(choices)}.")
            object.__setattr__(self, name, text)

    def to_env_dict(self) -> dict[str, str]:
        """The container environment: set fields only, upper-case names, string values."""
        return {
            f.name.upper(): str(getattr(self, f.name))
            for f in dataclasses.fields(self)
            if getattr(self, f.name) is not None
        }

    @classmethod
    def from_env_dict(cls, env_vars: Mapping[str, Any]) -> SageMakerEndpointEnvironment:
        """Build from container variables (``{"CONTEXT_LENGTH": "8000", ...}``).

        Raises:
            ConfigError: An unknown variable, or a value that is not a number where one is needed.
        """
        names = {f.name for f in dataclasses.fields(cls)}
        kwargs: dict[str, Any] = {}
        for key, raw in env_vars.items():
            name = str(key).lower()
            if name not in names:
                raise ConfigError(
                    f"Unknown SageMaker endpoint variable {key!r}; known: {', '.join(sorted(n.upper() for n in names))}."
                )
            if name in _BOUNDS:
                kind = _BOUNDS[name][0]
                try:
                    kwargs[name] = kind(float(str(raw).strip())) if kind is int else float(str(raw).strip())
                except ValueError:
                    raise ConfigError(f"{key}={raw!r} must be a {kind.__name__}.") from None
                if kind is int and float(str(raw).strip()) != kwargs[name]:
                    raise ConfigError(f"{key}={raw!r} must be a whole number.")
            else:
                kwargs[name] = str(raw)
        return cls(**kwargs)

    def validate_smi_config_bounds(self, model: Model, instance_type: str) -> None:
        """Check the context length and concurrency against what ``model`` supports on ``instance_type``.

        Raises:
            InstanceConfigError: The model cannot be served on that instance type.
            ConfigError: Context or concurrency above the instance's tiers.
        """
        from amzn_nova_forge.model._deploy_smi import validate_environment

        validate_environment(model, instance_type, self.to_env_dict())


def environment_dict(env: SageMakerEndpointEnvironment | Mapping[str, Any] | None) -> dict[str, Any] | None:
    """The environment as a dict of container variables (a dict is passed through)."""
    if env is None:
        return None
    if isinstance(env, SageMakerEndpointEnvironment):
        return dict(env.to_env_dict())
    if isinstance(env, Mapping):
        return dict(env)
    raise ConfigError(
        f"sagemaker_environment must be a SageMakerEndpointEnvironment or a dict of variables, got {type(env).__name__}."
    )


#: Smallest reservation one inference component of each model needs: (CPU cores, memory MB, accelerators).
IC_MIN_COMPUTE: dict[Model, tuple[int, int, int]] = {
    Model.NOVA_MICRO: (15, 25000, 4),
    Model.NOVA_LITE: (20, 35000, 4),
    Model.NOVA_LITE_2: (20, 100000, 4),
}
_IC_NAME_MAX = 63


@dataclass(frozen=True)
class InferenceComponentConfig:
    """One inference component (a model copy with its reserved compute) on a SageMaker endpoint.

    Args:
        inference_component_name: Name (1–63 letters, digits, ``-``).
        num_cpus: CPU cores reserved per copy (>= 1).
        num_accelerators: GPUs reserved per copy (>= 1).
        min_memory_in_mb: Memory reserved per copy in MB (>= 1).
        copy_count: Copies to run (>= 1). Default 1.
        variant_name: The endpoint's production variant. Default ``"primary"``.

    Raises:
        ConfigError: A value is missing, not a positive integer, or the name is invalid.

    Example:
        >>> InferenceComponentConfig("lite2-a", num_cpus=20, num_accelerators=4, min_memory_in_mb=100000).copy_count
        1
    """

    inference_component_name: str
    num_cpus: int
    num_accelerators: int
    min_memory_in_mb: int
    copy_count: int = 1
    variant_name: str = "primary"

    def __post_init__(self) -> None:
        import re

        name = self.inference_component_name
        if not isinstance(name, str) or not re.match(r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$", name):
            raise ConfigError(
                f"inference_component_name {name!r} is invalid: 1–{_IC_NAME_MAX} letters, digits and '-', "
                "starting and ending with a letter or digit."
            )
        for field_name in ("num_cpus", "num_accelerators", "min_memory_in_mb", "copy_count"):
            value = getattr(self, field_name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ConfigError(
                    f"InferenceComponentConfig.{field_name}={value!r} must be a positive integer ({name})."
                )

    def check_minimums(self, model: Model | None) -> None:
        """Check the reservation against the smallest one ``model`` can run in.

        Raises:
            ConfigError: CPU, memory or accelerators below the model's minimum.
        """
        need = IC_MIN_COMPUTE.get(model) if model is not None else None
        if need is None:
            return
        cpus, memory, gpus = need
        short = [
            f"{label}={have} < {want}"
            for label, have, want in (
                ("num_cpus", self.num_cpus, cpus),
                ("min_memory_in_mb", self.min_memory_in_mb, memory),
                ("num_accelerators", self.num_accelerators, gpus),
            )
            if have < want
        ]
        if short:
            raise ConfigError(
                f"Inference component {self.inference_component_name!r} reserves too little for "
                f"{model.name if model else 'the model'}: {', '.join(short)} (minimum per copy: "
                f"{cpus} CPUs, {memory} MB, {gpus} accelerators)."
            )
