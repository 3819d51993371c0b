"""The bundled Nova recipe catalogue (package data ``catalogue.json``), loaded once, lazily.

The catalogue is written from public facts by ``bench/recipe_catalogue_gen.py``; nothing is
fetched at run time. It holds:

* ``templates``: recipe id -> ``{recipe, params, images, source}``. ``recipe`` is the base
  recipe (nested dict of defaults); ``params`` maps each flat override key to its spec
  (``type``, ``min``, ``max``, ``enum``, ``multiple_of``, ``nullable``, ``paths``, ``aliases``,
  ``category``); ``images`` maps platform -> ``repo:tag``.
* ``entries``: one per (model, method or ``eval:<kind>``, platform) with its recipe variants and
  their allowed instance types and counts.
* ``regions`` per platform and the ECR ``accounts`` per region.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from amzn_nova_forge.core.enums import EvaluationTask, Model, Platform, TrainingMethod
from amzn_nova_forge.errors import UnsupportedFeatureError

__all__ = ["Catalogue", "Entry", "Variant", "catalogue", "eval_kind"]


@dataclass(frozen=True)
class Variant:
    """One base recipe of an entry and the instances it runs on (``None``: not validated)."""

    template_id: str
    instances: dict[str, list[int]] | None


@dataclass(frozen=True)
class Entry:
    """A supported (model, method, platform) and its recipe variants (first is the default)."""

    model: str
    method: str
    platform: str
    variants: tuple[Variant, ...]

    def variant_for(self, instance_type: str | None) -> Variant | None:
        """The variant serving ``instance_type`` (default variant when ``None``); ``None`` if none does."""
        if instance_type is None:
            return self.variants[0]
        for v in self.variants:
            if v.instances is None or instance_type in v.instances:
                return v
        return None

    def allowed_instances(self) -> dict[str, list[int]]:
        """Every allowed instance type of this entry with its allowed counts."""
        out: dict[str, list[int]] = {}
        for v in self.variants:
            for t, counts in (v.instances or {}).items():
                out.setdefault(t, counts)
        return out


def eval_kind(task: EvaluationTask, *, batch_inference: bool = False) -> str:
    """The catalogue's evaluation recipe kind for ``task`` (``byod`` for batch inference)."""
    if batch_inference or task is EvaluationTask.GEN_QA:
        return "byod"
    if task is EvaluationTask.MMMU:
        return "mm_benchmark"
    if task in (EvaluationTask.LLM_JUDGE, EvaluationTask.MM_LLM_JUDGE):
        return "llm_judge"
    if task is EvaluationTask.RUBRIC_LLM_JUDGE:
        return "rubric_llm_judge"
    if task in (EvaluationTask.RFT_EVAL, EvaluationTask.RFT_MULTITURN_EVAL):
        return "rft_eval"
    return "text_benchmark"


class Catalogue:
    """Read-only view over the parsed catalogue JSON."""

    def __init__(self, data: dict[str, Any]) -> None:
        self.templates: dict[str, dict[str, Any]] = data["templates"]
        self.regions: dict[str, list[str]] = data["regions"]
        self.accounts: dict[str, str] = data["accounts"]
        self.source: str = data.get("source", "")
        self._entries: dict[tuple[str, str, str], Entry] = {}
        for e in data["entries"]:
            variants = tuple(Variant(v["template"], v["instances"]) for v in e["variants"])
            self._entries[(e["model"], e["method"], e["platform"])] = Entry(
                e["model"], e["method"], e["platform"], variants
            )
        self._alias_cache: dict[str, dict[str, str]] = {}

    def entries(self) -> list[Entry]:
        """Every entry, in catalogue order."""
        return list(self._entries.values())

    def get(self, model: Model, method_key: str, platform: Platform) -> Entry | None:
        """The entry for (model, method key, platform), or ``None``.

        LOCAL reads the SMTJ entry, else the SMHP one, else the serverless one (the first platform
        that offers the method), so local rehearsals use the same recipe as a cloud job.
        """
        if platform is Platform.LOCAL:
            for plat in _LOCAL_SOURCES:
                entry = self._entries.get((model.name, method_key, plat))
                if entry is not None:
                    return entry
            return None
        return self._entries.get((model.name, method_key, platform.value))

    def require(self, model: Model, method_key: str, platform: Platform) -> Entry:
        """Like :meth:`get` but raises an error saying where the method is supported."""
        entry = self.get(model, method_key, platform)
        if entry is not None:
            return entry
        label = _label(method_key)
        where = sorted({e.platform for e in self._entries.values() if e.model == model.name and e.method == method_key})
        plats = _LOCAL_SOURCES if platform is Platform.LOCAL else (platform.value,)
        models = sorted({e.model for e in self._entries.values() if e.method == method_key and e.platform in plats})
        parts = [f"{label} is not supported for {model.name} on {platform.value}."]
        if where:
            local = " and LOCAL" if set(where) & set(_LOCAL_SOURCES) else ""
            parts.append(f"For {model.name} it is supported on: {', '.join(where)}{local}.")
        if models:
            parts.append(f"On {platform.value} it is supported for: {', '.join(models)}.")
        if not where and not models:
            anywhere = [e for e in self._entries.values() if e.method == method_key]
            if anywhere:
                parts.append(
                    f"It is offered for {', '.join(sorted({e.model for e in anywhere}))} on "
                    f"{', '.join(sorted({e.platform for e in anywhere}))}."
                )
            else:
                parts.append("It is not offered for any model on any platform.")
        raise UnsupportedFeatureError(" ".join(parts), runtime=platform.value, features=[label])

    def template(self, template_id: str) -> dict[str, Any]:
        return self.templates[template_id]

    def aliases(self, template_id: str) -> dict[str, str]:
        """{alias or key: canonical key} for a template's override parameters."""
        cached = self._alias_cache.get(template_id)
        if cached is None:
            cached = {}
            for key, spec in self.templates[template_id]["params"].items():
                for a in spec.get("aliases", ()):
                    cached.setdefault(a, key)
            for key in self.templates[template_id]["params"]:
                cached[key] = key
            self._alias_cache[template_id] = cached
        return cached

    def image_uri(self, template_id: str, platform: Platform, region: str) -> str | None:
        """Full ECR image URI for a template on SMTJ or SMHP in ``region``; ``None`` otherwise."""
        if platform in (Platform.BEDROCK, Platform.LOCAL, Platform.SMTJServerless):
            return None  # managed: the service picks the container
        plat = "SMHP" if platform is Platform.SMHP else "SMTJ"
        tag = self.templates[template_id]["images"].get(plat)
        account = self.accounts.get(region)
        if not tag or not account:
            return None
        return f"{account}.dkr.ecr.{region}.amazonaws.com/{tag}"


_LOCAL_SOURCES = (Platform.SMTJ.value, Platform.SMHP.value, Platform.SMTJServerless.value)


def _label(method_key: str) -> str:
    if method_key.startswith("eval:"):
        return f"Evaluation ({method_key[5:]})"
    return f"TrainingMethod.{TrainingMethod(method_key).name}"


@lru_cache(maxsize=1)
def catalogue() -> Catalogue:
    """The bundled catalogue (parsed once per process)."""
    # stdlib json: importing orjson costs more (~60 ms measured) than parsing this file (~2 ms)
    with open(os.path.join(os.path.dirname(__file__), "catalogue.json"), "rb") as f:
        return Catalogue(json.loads(f.read()))
