"""Recipe data types and helpers: RunSettings, BuiltRecipe, dotted paths, recipe files.

Example:
    >>> r = {"run": {"name": "x"}}
    >>> _set(r, "training_config.max_steps", 10); _get(r, "training_config.max_steps")
    10
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from amzn_nova_forge.core.enums import EvaluationTask, Model, Platform, TrainingMethod
from amzn_nova_forge.errors import RecipeValidationError

__all__ = ["BuiltRecipe", "RunSettings", "load_recipe_file"]

_INTERP = re.compile(r"^\$\{(?:oc\.select:)?([\w.]+)(?:,[^}]*)?\}$")
_SCI = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)[eE][+-]?\d+$")


@dataclass
class RunSettings:
    """What the SDK fills into a recipe's ``run`` section (and friends) for one job.

    Attributes:
        job_name: ``run.name``.
        data_s3_path: Training / evaluation data (``run.data_s3_path``).
        output_s3_path: ``run.output_s3_path``.
        model_name_or_path: Checkpoint for iterative training or evaluation (default: the base model).
        validation_data_s3_path: ``run.validation_data_s3_path`` where the recipe has it.
        replicas: Instance count when the builder was given none.
        mlflow: ``{"tracking_uri", "experiment_name", "run_name"}`` (or ``mlflow_*`` keys).
        data_mixing: ``{"customer_data_percent": .., "nova_<x>_percent": ..}``.
        rft_lambda_arn: Reward Lambda for RFT training (and RFT evaluation).
        processor: BYOD metrics / RFT Lambda config merged into ``processor``.
        rl_env: RL environment config merged into ``rl_env``.
    """

    job_name: str | None = None
    data_s3_path: str | None = None
    output_s3_path: str | None = None
    model_name_or_path: str | None = None
    validation_data_s3_path: str | None = None
    replicas: int | None = None
    mlflow: dict[str, Any] | None = None
    data_mixing: dict[str, Any] | None = None
    rft_lambda_arn: str | None = None
    processor: dict[str, Any] | None = None
    rl_env: dict[str, Any] | None = None

    @classmethod
    def coerce(cls, run: RunSettings | Mapping[str, Any] | None) -> RunSettings:
        """Accept a RunSettings, a dict with its field names, or ``None``."""
        if run is None:
            return cls()
        if isinstance(run, RunSettings):
            return run
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(run) - names)
        if unknown:
            raise RecipeValidationError(f"Unknown run settings {unknown}. Known: {', '.join(sorted(names))}.")
        return cls(**dict(run))


@dataclass
class BuiltRecipe:
    """A final recipe and what goes with it.

    Attributes:
        recipe: The final recipe (nested dict).
        template_id: The catalogue recipe it was built from.
        image_uri: Container image for (platform, region, recipe); ``None`` for Bedrock, serverless and Local.
        hyperparameters: Flat ``{override key: effective value}`` (what the local runtime trains with).
        platform, model, method, eval_task, region, instance_type, instance_count: the job's settings
            (``instance_count`` is the recipe's final ``replicas`` when it has one).
    """

    recipe: dict[str, Any]
    template_id: str
    image_uri: str | None
    hyperparameters: dict[str, Any]
    model: Model
    method: TrainingMethod
    platform: Platform
    eval_task: EvaluationTask | None = None
    region: str | None = None
    instance_type: str | None = None
    instance_count: int | None = None
    job_name: str | None = field(default=None, repr=False)

    def to_yaml(self) -> str:
        """The recipe as YAML (key order kept)."""
        import yaml

        dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
        return str(yaml.dump(self.recipe, Dumper=dumper, sort_keys=False, default_flow_style=False))

    def write(self, directory: str, file_name: str | None = None) -> str:
        """Write the YAML into ``directory`` (local or ``s3://``) atomically; return its path."""
        from amzn_nova_forge.core import storage

        name = file_name or f"{self.job_name or self.template_id}.yaml"
        if storage.is_s3(directory):
            target = storage.join(directory, name)
        else:
            import os

            os.makedirs(os.path.expanduser(str(directory)), exist_ok=True)
            target = os.path.join(os.path.expanduser(str(directory)), name)
        storage.write_text(target, self.to_yaml())
        return target


def _copy(obj: Any) -> Any:
    if isinstance(obj, dict):
        return {k: _copy(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_copy(v) for v in obj]
    return obj


def _get(recipe: Mapping[str, Any], path: str) -> Any:
    cur: Any = recipe
    for part in path.split("."):
        if not isinstance(cur, Mapping) or part not in cur:
            return None
        cur = cur[part]
    return cur


def _has(recipe: Mapping[str, Any], path: str) -> bool:
    cur: Any = recipe
    for part in path.split("."):
        if not isinstance(cur, Mapping) or part not in cur:
            return False
        cur = cur[part]
    return True


def _set(recipe: dict[str, Any], path: str, value: Any) -> None:
    parts = path.split(".")
    cur = recipe
    for part in parts[:-1]:
        cur = cur.setdefault(part, {})
    cur[parts[-1]] = value


def _leaves(d: Mapping[str, Any], prefix: str = "") -> list[tuple[str, Any]]:
    out: list[tuple[str, Any]] = []
    for k, v in d.items():
        p = f"{prefix}.{k}" if prefix else str(k)
        if isinstance(v, Mapping) and v:
            out.extend(_leaves(v, p))
        else:
            out.append((p, v))
    return out


def _norm(v: Any) -> Any:
    if isinstance(v, dict):
        return {k: _norm(x) for k, x in v.items()}
    if isinstance(v, list):
        return [_norm(x) for x in v]
    if isinstance(v, str) and _SCI.match(v.strip()):
        return float(v)
    return v


def load_recipe_file(path: str) -> dict[str, Any]:
    """Read a user recipe YAML (local path or ``s3://``); scientific-notation strings become floats.

    The file is parsed with a size, nesting and alias budget (see :mod:`amzn_nova_forge.recipe._yaml`).

    Raises:
        FileNotFoundError: No file at ``path``.
        RecipeValidationError: Not valid YAML, a ``!!python`` (or other non-plain) tag, over budget,
            or not a mapping.
    """
    from amzn_nova_forge.recipe._yaml import read_yaml_file

    data = read_yaml_file(path)
    if not isinstance(data, dict):
        raise RecipeValidationError(
            f"Recipe file {path} must hold a YAML mapping, got {type(data).__name__}.", recipe=path
        )
    return dict(_norm(data))


def _num(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _resolve(recipe: Mapping[str, Any], value: Any, depth: int = 0) -> Any:
    """Resolve ``${oc.select:a.b}`` / ``${a.b}`` interpolations against the recipe itself."""
    if isinstance(value, str) and depth < 5:
        m = _INTERP.match(value)
        if m:
            path = m.group(1)
            if path.startswith("recipes."):
                path = path[8:]
            if _has(recipe, path):
                return _resolve(recipe, _get(recipe, path), depth + 1)
    return value


class Unresolvable(Exception):
    """An interpolation that points nowhere, loops, or uses a resolver the SDK cannot evaluate."""


def resolve_reference(recipe: Mapping[str, Any], value: str) -> Any:
    """The value a ``${...}`` reference stands for, as OmegaConf would compute it from ``recipe``.

    ``${a.b}`` needs ``a.b`` in the recipe; ``${oc.select:a.b}`` is null (or its default, after
    the comma) when ``a.b`` is missing. A chain is followed up to 5 references deep.

    Raises:
        Unresolvable: the path is missing (plain form), the chain loops or is too long, or the
            resolver is not ``oc.select``.
    """
    from amzn_nova_forge.recipe._yaml import load_yaml

    seen: list[str] = []
    current: Any = value
    while isinstance(current, str) and current.startswith("${") and current.endswith("}"):
        if current in seen or len(seen) >= 5:
            raise Unresolvable(f"the references loop or chain too deep ({' -> '.join([*seen, current])})")
        seen.append(current)
        m = re.match(r"^\$\{(oc\.select:)?([\w.]+)(?:,([^}]*))?\}$", current)
        if m is None:
            raise Unresolvable(f"{current} is not a reference the SDK can check (only ${{a.b}} and ${{oc.select:a.b}})")
        select, path, default = m.group(1), m.group(2), m.group(3)
        if path.startswith("recipes."):
            path = path[8:]
        if _has(recipe, path):
            current = _get(recipe, path)
        elif select:
            try:
                current = load_yaml(default, source=current) if default is not None and default.strip() else None
            except RecipeValidationError as e:
                raise Unresolvable(f"the default of {current} is not a YAML value ({e})") from None
        else:
            raise Unresolvable(f"{current} refers to {path!r}, which is not in the recipe")
    return current
