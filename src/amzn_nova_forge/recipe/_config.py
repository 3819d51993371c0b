"""``RecipeConfig`` / ``ConfigParameter``: the overridable parameters of a recipe, before training.

``ForgeTrainer.get_config(overrides)`` (and ``NovaModelCustomizer.get_config``) return the
parameters of the recipe that ``train`` would build (the same catalogue template: model,
method, platform and instance type), each with its type, default, range and allowed values.
Given ``overrides``, each is checked exactly as ``train`` checks it and becomes the
parameter's ``default``, so the result previews the job's recipe.

Example:
    >>> from amzn_nova_forge.core.enums import Model, Platform, TrainingMethod
    >>> cfg = recipe_config(Model.NOVA_LITE_2, TrainingMethod.SFT_LORA, Platform.SMTJ, overrides={"lr": 5e-6})
    >>> cfg["lr"].default, cfg["lr"].min, cfg["lr"].max
    (5e-06, 0.0, 1.0)
    >>> cfg["global_batch_size"].enum
    (32, 64, 128, 256)
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from amzn_nova_forge.core.enums import EvaluationTask, Model, Platform, TrainingMethod

__all__ = ["ConfigParameter", "RecipeConfig", "recipe_config"]

#: Recipe keys the SDK fills itself (paths, names, MLflow): not offered as overrides.
_SDK_FILLED = frozenset(
    {
        "name",
        "model_type",
        "model_name_or_path",
        "data_s3_path",
        "output_s3_path",
        "validation_data_s3_path",
        "validation_data_s3_path_list",
        "replicas",
        "mlflow_tracking_uri",
        "mlflow_experiment_name",
        "mlflow_run_name",
    }
)


@dataclass(frozen=True)
class ConfigParameter:
    """One overridable recipe parameter.

    Attributes:
        name: The override key (``overrides={name: value}``).
        type: ``"integer"``, ``"float"``, ``"boolean"``, ``"string"``, ``"list"`` or ``"dict"``.
        default: The recipe's value (the override's value when one was given).
        description: Where the value goes in the recipe and what is allowed.
        min: Smallest allowed value (numbers), when bounded.
        max: Largest allowed value (numbers), when bounded.
        enum: The allowed values, when only some are.
        required: True when the recipe has no usable default.
        aliases: Other accepted names of this key.
    """

    name: str
    type: str
    default: Any = None
    description: str | None = None
    min: float | None = None
    max: float | None = None
    enum: tuple[Any, ...] | None = None
    required: bool = False
    aliases: tuple[str, ...] = ()


@dataclass(frozen=True)
class RecipeConfig:
    """The overridable parameters of one recipe (read-only).

    Index by name (``config["lr"]``), iterate, or call :meth:`to_dict`.

    Attributes:
        model: The Nova model.
        method: The training method (``EVALUATION`` for evaluation recipes).
        platform: Where the job runs.
        template_id: The catalogue recipe the parameters come from.
        parameters: The parameters, in recipe order.
    """

    model: Model
    method: TrainingMethod
    platform: Platform
    template_id: str
    parameters: tuple[ConfigParameter, ...] = field(default_factory=tuple)

    def __getitem__(self, name: str) -> ConfigParameter:
        for p in self.parameters:
            if name == p.name or name in p.aliases:
                return p
        known = ", ".join(p.name for p in self.parameters)
        raise KeyError(f"{name!r} is not an overridable parameter of {self.template_id}; known: {known}")

    def __contains__(self, name: object) -> bool:
        return any(name == p.name or name in p.aliases for p in self.parameters)

    def __iter__(self) -> Iterator[ConfigParameter]:
        return iter(self.parameters)

    def __len__(self) -> int:
        return len(self.parameters)

    @property
    def names(self) -> list[str]:
        """The parameter names."""
        return [p.name for p in self.parameters]

    def to_dict(self) -> dict[str, Any]:
        """``{name: default}`` for every parameter (what the recipe would use)."""
        return {p.name: p.default for p in self.parameters}


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return value


def recipe_config(
    model: Model,
    method: TrainingMethod,
    platform: Platform,
    *,
    overrides: Mapping[str, Any] | None = None,
    instance_type: str | None = None,
    instance_count: int | None = None,
    eval_task: EvaluationTask | None = None,
    region: str | None = None,
) -> RecipeConfig:
    """The overridable parameters of the recipe of (model, method, platform[, instance type]).

    Raises:
        RecipeOverrideError: An override key the recipe lacks (with the closest keys), or a
            value of the wrong type or out of range.
        UnsupportedFeatureError: The method is not offered for the model on the platform.
    """
    from amzn_nova_forge.recipe import _validate as V
    from amzn_nova_forge.recipe._builder import RecipeBuilder
    from amzn_nova_forge.recipe._catalogue import catalogue

    builder = RecipeBuilder(
        model,
        method,
        platform,
        eval_task=eval_task,
        region=region,
        instance_type=instance_type,
        instance_count=instance_count,
    )
    keys = builder.keys()
    template_id = builder._variant(False).template_id
    aliases = catalogue().aliases(template_id)
    given: dict[str, Any] = {}
    for key, value in (overrides or {}).items():
        canonical = V.resolve_key(key, aliases, template_id=template_id)
        given[canonical] = V.check_value(key, value, keys[canonical], template_id=template_id)
    params = []
    for name, spec in keys.items():
        if name in _SDK_FILLED:
            continue
        default = given.get(name, spec.get("default"))
        description = f"{', '.join(spec['paths'])}: {spec['allowed']}"
        follows = V.is_interpolation(default)
        if follows:  # e.g. save_steps = ${oc.select:training_config.max_steps}
            description += f" (default: follows {str(default).rsplit('.', 1)[-1].rstrip('}')})"
            default = None
        enum = spec.get("enum")
        params.append(
            ConfigParameter(
                name=name,
                type=str(spec.get("type", "string")),
                default=default,
                description=description,
                min=_number(spec.get("min")),
                max=_number(spec.get("max")),
                enum=tuple(enum) if enum else None,
                required=default is None and not follows and not spec.get("nullable", False),
                aliases=tuple(spec.get("aliases") or ()),
            )
        )
    return RecipeConfig(
        model=model, method=method, platform=platform, template_id=template_id, parameters=tuple(params)
    )
