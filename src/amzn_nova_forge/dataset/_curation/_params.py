"""Filter steps: what ``loader.filter(method=..., **kwargs)`` queues, validated at the call.

A :class:`FilterStep` is plain data (picklable, JSON-serialisable): the executors ship it to
worker processes, Ray tasks and SageMaker jobs. Every keyword is checked here, so a typo or a
bad value fails at ``filter()``, not minutes into a job; unknown keywords get a suggestion.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from amzn_nova_forge.core.enums import FilterMethod
from amzn_nova_forge.errors import ConfigError

__all__ = ["DEFAULTS", "FilterStep", "build_step", "step_from_dict"]

#: Keywords every filter takes (the official shared parameters).
_SHARED = ("text_field", "output_path", "runtime_manager", "input_format", "output_format", "extra_args", "job_name")

#: Method-specific parameters and their defaults (the official defaults where it has one).
DEFAULTS: dict[FilterMethod, dict[str, Any]] = {
    FilterMethod.DEFAULT_TEXT_FILTER: {
        "max_url_to_text_ratio": 0.2,
        "min_alnum_ratio": 0.25,
        "max_word_repetition_ratio": 0.5,
        "word_repetition_ngram": 10,
        "max_char_repetition_ratio": 0.5,
        "char_repetition_ngram": 10,
        "max_mojibake_ratio": 0.05,
        "min_chars": 50,
        "max_chars": None,
        "min_avg_line_length": 10.0,
        "min_lines_for_line_check": 2,
    },
    FilterMethod.EXACT_DEDUP: {"lowercase": False},
    FilterMethod.FUZZY_DEDUP: {
        "threshold": 0.8,
        "num_perm": 256,
        "ngram_size": 24,
        "shingle": "char",
        "seed": 42,
        "num_bands": None,
        "rows_per_band": None,
        "bands_per_iteration": 4,
        "lowercase": True,
    },
    FilterMethod.LANGUAGE_DETECTION: {
        "languages": None,
        "min_score": 0.0,
        "keep_undetected": False,
        "model_path": None,
        "lang_field": "lang",
        "score_field": "lang_score",
    },
    FilterMethod.INVALID_RECORDS: {
        "training_method": None,
        "model": None,
        "platform": None,
        "eval_task": None,
        "region": None,
    },
}


@dataclass(frozen=True)
class FilterStep:
    """One queued filter: the method, its text field and its validated parameters.

    Attributes:
        method: Which filter.
        text_field: Top-level field holding the text (text filters and dedup).
        params: Method parameters, defaults filled in (see :data:`DEFAULTS`).
        output_path: Where this step writes its summary and dropped records (``None``: derived).
        runtime_manager: A SageMaker/Glue data-prep manager to run it remotely, else ``None``.
    """

    method: FilterMethod
    text_field: str = "text"
    params: Mapping[str, Any] = field(default_factory=dict)
    output_path: str | None = None
    output_format: str = "jsonl"
    job_name: str | None = None
    runtime_manager: object | None = field(default=None, compare=False)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON data (no runtime manager): what a remote job receives."""
        params = {k: _plain(v) for k, v in self.params.items()}
        return {"method": self.method.value, "text_field": self.text_field, "params": params}


_ENUM_KEYS = {
    "training_method": "TrainingMethod",
    "model": "Model",
    "platform": "Platform",
    "eval_task": "EvaluationTask",
}


def _plain(v: Any) -> Any:
    """An enum as ``"Class.NAME"`` (JSON-safe, rebuilt by :func:`step_from_dict`)."""
    from enum import Enum

    return f"{type(v).__name__}.{v.name}" if isinstance(v, Enum) else v


def step_from_dict(data: Mapping[str, Any]) -> FilterStep:
    """Rebuild a step from :meth:`FilterStep.to_dict` output (validating it again)."""
    from amzn_nova_forge.core import enums

    params = dict(data["params"])
    for key, cls in _ENUM_KEYS.items():
        v = params.get(key)
        if isinstance(v, str) and v.startswith(cls + "."):
            params[key] = getattr(enums, cls)[v.split(".", 1)[1]]
    return build_step(FilterMethod(data["method"]), {"text_field": data["text_field"], **params})


def _method(method: Any) -> FilterMethod:
    if isinstance(method, FilterMethod):
        return method
    try:
        return FilterMethod(str(method).lower())
    except ValueError:
        names = [m.name for m in FilterMethod]
        raise ConfigError(f"Unknown filter method {method!r}; use a FilterMethod: {', '.join(names)}.") from None


def _number(name: str, value: Any, lo: float, hi: float | None, *, integer: bool = False) -> None:
    ok = isinstance(value, int) if integer else isinstance(value, int | float)
    if isinstance(value, bool) or not ok or value < lo or (hi is not None and value > hi):
        kind = "an integer" if integer else "a number"
        rng = f"[{lo}, {hi}]" if hi is not None else f">= {lo}"
        raise ConfigError(f"{name} must be {kind} in {rng}; got {value!r}.")


def _check_text(params: dict[str, Any]) -> None:
    for key in ("max_url_to_text_ratio", "min_alnum_ratio", "max_word_repetition_ratio"):
        _number(key, params[key], 0.0, 1.0)
    _number("max_char_repetition_ratio", params["max_char_repetition_ratio"], 0.0, 1.0)
    _number("max_mojibake_ratio", params["max_mojibake_ratio"], 0.0, 1.0)
    _number("word_repetition_ngram", params["word_repetition_ngram"], 1, 1000, integer=True)
    _number("char_repetition_ngram", params["char_repetition_ngram"], 1, 1000, integer=True)
    _number("min_chars", params["min_chars"], 0, None, integer=True)
    if params["max_chars"] is not None:
        _number("max_chars", params["max_chars"], params["min_chars"], None, integer=True)
    _number("min_avg_line_length", params["min_avg_line_length"], 0.0, None)
    _number("min_lines_for_line_check", params["min_lines_for_line_check"], 1, None, integer=True)


def _check_fuzzy(params: dict[str, Any]) -> None:
    _number("threshold", params["threshold"], 0.0, 1.0)
    if params["threshold"] <= 0.0:
        raise ConfigError("threshold must be above 0 (0 would make every pair of records a duplicate).")
    _number("num_perm", params["num_perm"], 2, 4096, integer=True)
    _number("ngram_size", params["ngram_size"], 1, 1000, integer=True)
    _number("seed", params["seed"], 0, 2**63, integer=True)
    _number("bands_per_iteration", params["bands_per_iteration"], 1, 4096, integer=True)
    if params["shingle"] not in ("char", "word"):
        raise ConfigError(f"shingle must be 'char' (character n-grams) or 'word'; got {params['shingle']!r}.")
    b, r = params["num_bands"], params["rows_per_band"]
    if (b is None) != (r is None):
        raise ConfigError("Give both num_bands and rows_per_band, or neither (they are then derived from threshold).")
    if b is not None:
        _number("num_bands", b, 1, 4096, integer=True)
        _number("rows_per_band", r, 1, 4096, integer=True)
        if b * r > params["num_perm"]:
            raise ConfigError(f"num_bands * rows_per_band ({b} * {r}) exceeds num_perm ({params['num_perm']}).")


def _check_lang(params: dict[str, Any]) -> None:
    langs = params["languages"]
    if not langs or isinstance(langs, str) or not all(isinstance(x, str) and x for x in langs):
        raise ConfigError(
            f"LANGUAGE_DETECTION needs languages=, a non-empty list of ISO 639-1 codes (e.g. ['en', 'fr']); "
            f"got {langs!r}."
        )
    params["languages"] = sorted({x.lower() for x in langs})
    _number("min_score", params["min_score"], 0.0, 1.0)
    if params["model_path"] is not None:
        raise ConfigError(
            "model_path is not used: language detection runs the langid model that ships inside the "
            "langid package (offline, 97 languages). Leave model_path out."
        )


def _check_invalid(params: dict[str, Any]) -> None:
    from amzn_nova_forge.dataset._validate import resolve

    missing = [k for k in ("training_method", "model", "platform") if params[k] is None]
    if missing:
        raise ConfigError(
            f"INVALID_RECORDS needs {', '.join(missing)} (e.g. training_method=TrainingMethod.SFT_LORA, "
            "model=Model.NOVA_LITE_2, platform=Platform.SMTJ)."
        )
    resolve(params["training_method"], params["model"], params["eval_task"], params["platform"])


def build_step(method: Any, kwargs: Mapping[str, Any]) -> FilterStep:
    """Validate ``filter()`` keywords into a :class:`FilterStep`.

    Raises:
        ConfigError: An unknown keyword (with a suggestion), a bad value (naming the keyword,
            the value and the allowed range) or a missing required keyword.
    """
    m = _method(method)
    defaults = DEFAULTS[m]
    kwargs = dict(kwargs)
    extra = kwargs.pop("extra_args", None) or {}
    if not isinstance(extra, Mapping):
        raise ConfigError(f"extra_args must be a dict of filter parameters; got {type(extra).__name__}.")
    if m is FilterMethod.FUZZY_DEDUP and "jaccard_threshold" in extra:
        extra = {**extra, "threshold": extra["jaccard_threshold"]}
        del extra["jaccard_threshold"]
    merged = {**extra, **kwargs}
    unknown = [k for k in merged if k not in defaults and k not in _SHARED]
    if unknown:
        known = sorted([*defaults, *_SHARED])
        hints = [difflib.get_close_matches(k, known, n=1) for k in unknown]
        hint = "; ".join(f"did you mean {h[0]!r} instead of {k!r}?" for k, h in zip(unknown, hints, strict=True) if h)
        raise ConfigError(
            f"Unknown keyword(s) {unknown} for FilterMethod.{m.name}. "
            + (hint + " " if hint else "")
            + f"Known: {known}."
        )
    text_field = merged.get("text_field", "text")
    if not isinstance(text_field, str) or not text_field:
        raise ConfigError(f"text_field must name a field of the records (a non-empty string); got {text_field!r}.")
    output_path = merged.get("output_path")
    if output_path is not None and (not isinstance(output_path, str) or not output_path):
        raise ConfigError(f"output_path must be a local folder or an s3:// prefix; got {output_path!r}.")
    output_format = merged.get("output_format", "jsonl")
    if output_format not in ("jsonl", "parquet"):
        raise ConfigError(f"output_format must be 'jsonl' or 'parquet'; got {output_format!r}.")
    input_format = merged.get("input_format")
    if input_format is not None and input_format not in ("jsonl", "json", "parquet"):
        raise ConfigError(f"input_format must be 'jsonl', 'json' or 'parquet'; got {input_format!r}.")
    params = {**defaults, **{k: v for k, v in merged.items() if k in defaults}}
    checks: dict[FilterMethod, Callable[[dict[str, Any]], None]] = {
        FilterMethod.DEFAULT_TEXT_FILTER: _check_text,
        FilterMethod.FUZZY_DEDUP: _check_fuzzy,
        FilterMethod.LANGUAGE_DETECTION: _check_lang,
        FilterMethod.INVALID_RECORDS: _check_invalid,
    }
    if m in checks:
        checks[m](params)
    if m is FilterMethod.EXACT_DEDUP and not isinstance(params["lowercase"], bool):
        raise ConfigError(f"lowercase must be True or False; got {params['lowercase']!r}.")
    job_name = merged.get("job_name")
    return FilterStep(
        m,
        text_field,
        params,
        output_path,
        output_format,
        job_name if isinstance(job_name, str) else None,
        merged.get("runtime_manager"),
    )
