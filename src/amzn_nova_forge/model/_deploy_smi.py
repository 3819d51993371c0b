"""What the Nova inference container supports: (model, instance type) tiers and environment rules.

``CONTEXT_LENGTH`` picks the first tier whose context is large enough, and
``MAX_CONCURRENCY`` must not exceed that tier's concurrency. :func:`validate_environment`
checks a dict of container variables (the typed form is
:class:`~amzn_nova_forge.model._deploy_env.SageMakerEndpointEnvironment`).
"""

from __future__ import annotations

import difflib
import logging
from collections.abc import Mapping
from typing import Any

from amzn_nova_forge.core.enums import Model
from amzn_nova_forge.errors import ConfigError, InstanceConfigError

__all__ = ["DEFAULT_CONTEXT_LENGTH", "DEFAULT_MAX_CONCURRENCY", "SMI_CONFIGS", "validate_environment"]

logger = logging.getLogger(__name__)

#: (model, instance type) -> [(max context length, max concurrency), ...] tiers, ascending context.
SMI_CONFIGS: dict[Model, dict[str, list[tuple[int, int]]]] = {
    Model.NOVA_MICRO: {
        "ml.g5.12xlarge": [(4000, 12), (8000, 6)],
        "ml.g5.24xlarge": [(8000, 8)],
        "ml.g6e.xlarge": [(8000, 2)],
        "ml.g6e.2xlarge": [(8000, 2)],
        "ml.g6e.4xlarge": [(8000, 4)],
        "ml.g6.12xlarge": [(4000, 12), (8000, 6)],
        "ml.g6.24xlarge": [(8000, 8)],
        "ml.g6.48xlarge": [(8000, 12)],
        "ml.p5.48xlarge": [(16000, 128), (64000, 32), (128000, 8)],
    },
    Model.NOVA_LITE: {
        "ml.g6.12xlarge": [(8000, 2)],
        "ml.g6.24xlarge": [(8000, 4)],
        "ml.g6.48xlarge": [(4000, 16), (8000, 8)],
        "ml.p5.48xlarge": [(16000, 128), (60000, 8)],
    },
    Model.NOVA_PRO: {"ml.p5.48xlarge": [(8000, 8), (16000, 2), (24000, 1)]},
    Model.NOVA_LITE_2: {
        "ml.g6.48xlarge": [(8000, 8)],
        "ml.p5.48xlarge": [(16000, 128), (64000, 32), (128000, 8), (256000, 2)],
    },
}
DEFAULT_CONTEXT_LENGTH = 4000
DEFAULT_MAX_CONCURRENCY = 1


def _num(
    key: str,
    value: Any,
    *,
    kind: type = float,
    lo: float | None = None,
    hi: float | None = None,
    lo_open: bool = False,
    allow: tuple[Any, ...] = (),
) -> None:
    try:
        v = kind(str(value).strip())
    except ValueError:
        raise ConfigError(f"sagemaker_environment_variables[{key!r}]={value!r} must be a {kind.__name__}.") from None
    if v in allow:
        return
    bad = (lo is not None and (v <= lo if lo_open else v < lo)) or (hi is not None and v > hi)
    if bad:
        lo_txt = "" if lo is None else (f"> {lo}" if lo_open else f">= {lo}")
        hi_txt = "" if hi is None else f"<= {hi}"
        rng = " and ".join(t for t in (lo_txt, hi_txt) if t)
        extra = f" (or {', '.join(map(str, allow))})" if allow else ""
        raise ConfigError(f"sagemaker_environment_variables[{key!r}]={value!r} must be {rng}{extra}.")


_RULES: dict[str, dict[str, Any]] = {
    "CONTEXT_LENGTH": {"kind": int, "lo": 0, "lo_open": True},
    "MAX_CONCURRENCY": {"kind": int, "lo": 0, "lo_open": True},
    "DEFAULT_TEMPERATURE": {"lo": 0, "hi": 2},
    "DEFAULT_TOP_P": {"lo": 1e-10, "hi": 1},
    "DEFAULT_TOP_K": {"kind": int, "lo": 0, "lo_open": True, "allow": (-1,)},
    "DEFAULT_MAX_NEW_TOKENS": {"kind": int, "lo": 0, "lo_open": True},
    "DEFAULT_LOGPROBS": {"kind": int, "lo": 1, "hi": 20},
    "NUM_SPECULATIVE_TOKENS": {"kind": int, "lo": 1, "hi": 10},
    "SUFFIX_DECODING_MAX_TREE_DEPTH": {"kind": int, "lo": 0, "lo_open": True},
    "SUFFIX_DECODING_MAX_CACHED_REQUESTS": {"kind": int, "lo": 0},
    "SUFFIX_DECODING_MAX_SPEC_FACTOR": {"lo": 0},
    "SUFFIX_DECODING_MIN_TOKEN_PROB": {"lo": 0, "hi": 1},
}
_CHOICES: dict[str, tuple[str, ...]] = {
    "SPECULATIVE_DECODING_METHOD": ("eagle3", "suffix"),
    "DISABLE_SPECULATIVE_DECODING": ("true", "false"),
    "KV_CACHE_DTYPE": ("fp8",),
    "QUANTIZATION_DTYPE": ("fp8",),
}


def validate_environment(model: Model | None, instance_type: str, env: Mapping[str, Any] | None) -> dict[str, str]:
    """Check the instance type and container environment; return the environment to send (strings).

    Raises:
        InstanceConfigError: The model cannot be served on ``instance_type``.
        ConfigError: A variable is out of range, or the context/concurrency exceed what the
            instance allows (the message lists the allowed tiers).

    Example:
        >>> validate_environment(Model.NOVA_LITE_2, "ml.p5.48xlarge", {"CONTEXT_LENGTH": "12000"})
        {'CONTEXT_LENGTH': '12000', 'MAX_CONCURRENCY': '1'}
    """
    out = {str(k): str(v) for k, v in (env or {}).items()}
    known = set(_RULES) | set(_CHOICES)
    for key, value in out.items():
        if key in _RULES:
            _num(key, value, **_RULES[key])
        elif key in _CHOICES:
            if value.lower() not in _CHOICES[key]:
                raise ConfigError(
                    f"sagemaker_environment_variables[{key!r}]={value!r} must be one of {', '.join(_CHOICES[key])}."
                )
        else:
            close = difflib.get_close_matches(key, sorted(known), n=1)
            logger.warning(
                "sagemaker_environment_variables[%r] is not a known Nova inference setting; passing it through.%s",
                key,
                f" Did you mean {close[0]!r}?" if close else "",
            )
    out.setdefault("CONTEXT_LENGTH", str(DEFAULT_CONTEXT_LENGTH))
    out.setdefault("MAX_CONCURRENCY", str(DEFAULT_MAX_CONCURRENCY))
    if model is None:
        return out
    per_model = SMI_CONFIGS.get(model, {})
    tiers = per_model.get(instance_type)
    if tiers is None:
        raise InstanceConfigError(
            f"{model.name} cannot be served on {instance_type!r} by the Nova inference container. "
            f"Supported instance types for {model.name}: {', '.join(sorted(per_model)) or 'none'}.",
            instance_type=instance_type,
            allowed=sorted(per_model),
        )
    ctx_len, conc = int(out["CONTEXT_LENGTH"]), int(out["MAX_CONCURRENCY"])
    tier = next((t for t in tiers if t[0] >= ctx_len), None)
    table = "; ".join(f"context <= {c}: concurrency <= {m}" for c, m in tiers)
    if tier is None:
        raise ConfigError(
            f"CONTEXT_LENGTH={ctx_len} is more than {model.name} on {instance_type} supports "
            f"(max {tiers[-1][0]}). Allowed: {table}."
        )
    if conc > tier[1]:
        raise ConfigError(
            f"MAX_CONCURRENCY={conc} is more than {model.name} on {instance_type} supports at "
            f"CONTEXT_LENGTH={ctx_len} (max {tier[1]}). Allowed: {table}."
        )
    return out
