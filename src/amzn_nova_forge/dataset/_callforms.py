"""The two call forms of ``transform()`` and ``validate()``, both first-class.

Seed form (still current here, no warning)::

    loader.transform(TrainingMethod.SFT_LORA, Model.NOVA_LITE_2)
    loader.validate(method=TrainingMethod.SFT_LORA, model=Model.NOVA_LITE_2, eval_task=...)

Official current form::

    loader.transform(method=TransformMethod.SCHEMA, training_method=TrainingMethod.SFT_LORA,
                     model=Model.NOVA_LITE_2, column_mappings={"question": "q", "answer": "a"})
    loader.validate(method=ValidateMethod.INVALID_RECORDS, training_method=..., model=...)

:func:`schema_args` turns either into one :class:`SchemaArgs`.

Example:
    >>> from amzn_nova_forge.core.enums import Model, TrainingMethod, TransformMethod
    >>> a = schema_args("transform", TransformMethod.SCHEMA, Model.NOVA_LITE_2, None, TrainingMethod.SFT_LORA)
    >>> a.training_method.name, a.model.name
    ('SFT_LORA', 'NOVA_LITE_2')
"""

from __future__ import annotations

from dataclasses import dataclass

from amzn_nova_forge.core.enums import (
    EvaluationTask,
    Model,
    TrainingMethod,
    TransformMethod,
    ValidateMethod,
)
from amzn_nova_forge.errors import ConfigError

__all__ = ["SchemaArgs", "schema_args"]


@dataclass(frozen=True)
class SchemaArgs:
    """What a schema transform or validation targets."""

    training_method: TrainingMethod
    model: Model
    eval_task: EvaluationTask | None


def _as_method(m: object) -> TrainingMethod:
    if isinstance(m, TrainingMethod):
        return m
    try:
        return TrainingMethod(str(m).lower())
    except ValueError:
        names = ", ".join(f"TrainingMethod.{t.name}" for t in TrainingMethod)
        raise ConfigError(f"training_method must be one of {names}; got {m!r}.") from None


def _as_model(m: object) -> Model:
    if isinstance(m, Model):
        return m
    try:
        return Model.from_model_name(str(m))
    except (ValueError, KeyError):
        names = ", ".join(f"Model.{x.name}" for x in Model)
        raise ConfigError(f"model must be one of {names}; got {m!r}.") from None


def _as_task(t: object) -> EvaluationTask | None:
    if t is None or isinstance(t, EvaluationTask):
        return t
    try:
        return EvaluationTask(str(t).lower())
    except ValueError:
        raise ConfigError(f"eval_task must be an EvaluationTask; got {t!r}.") from None


def schema_args(
    verb: str,
    method: object,
    model: object,
    eval_task: object,
    training_method: object,
) -> SchemaArgs:
    """Normalise the arguments of ``transform``/``validate`` (either call form).

    ``method`` is a :class:`TrainingMethod` (seed form) or a :class:`TransformMethod` /
    :class:`ValidateMethod` (current form, with ``training_method=``).

    Raises:
        ConfigError: A wrong enum for this verb, a missing or conflicting training method,
            or a missing model.
    """
    kinds = (TransformMethod,) if verb == "transform" else (ValidateMethod,)
    if isinstance(method, TrainingMethod) or (
        isinstance(method, str)
        and not isinstance(method, kinds)
        and method.lower() in TrainingMethod._value2member_map_
    ):
        if training_method is not None and _as_method(training_method) != _as_method(method):
            raise ConfigError(
                f"{verb}() got method={method!r} and training_method={training_method!r}; pass the training "
                f"method once, as training_method= (with method={kinds[0].__name__}.…) or as method=."
            )
        tm = _as_method(method)
    else:
        if method is not None and not isinstance(method, kinds):
            try:
                method = kinds[0](str(method).lower())
            except ValueError:
                allowed = ", ".join(f"{kinds[0].__name__}.{m.name}" for m in kinds[0])
                raise ConfigError(f"{verb}() method must be {allowed} or a TrainingMethod; got {method!r}.") from None
        if training_method is None:
            raise ConfigError(
                f"{verb}(method={kinds[0].__name__}.…) needs training_method=, e.g. "
                f"{verb}(method={kinds[0].__name__}.{'SCHEMA' if verb == 'transform' else 'INVALID_RECORDS'}, "
                "training_method=TrainingMethod.SFT_LORA, model=Model.NOVA_LITE_2)."
            )
        tm = _as_method(training_method)
    if model is None:
        raise ConfigError(f"{verb}() needs model=, e.g. model=Model.NOVA_LITE_2.")
    return SchemaArgs(tm, _as_model(model), _as_task(eval_task))
