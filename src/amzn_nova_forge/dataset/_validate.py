"""Dataset validation: which rules apply, the streaming driver, dataset-level rules, the report.

:func:`resolve` picks the record validator for ``(method, model, eval_task, platform)``;
:class:`Validator` is fed records one at a time (from a stream, never a list) and
collects **every** problem with its line and JSON path (keeping the first
``max_problems``, counting the rest); :meth:`Validator.finish` adds the dataset-level
rules (optional-field consistency, one media type per dataset, row counts per platform)
and returns a :class:`ValidationReport`.

Dataset-level choices where the sources differ:
    * Consistency ("if any record has an optional field, every record must") follows the
      1.4.10 SDK for ``system``, media, ``reasoningContent`` and RFT/eval optional fields.
      For ``toolUse``/``toolResult`` it is a warning only: real tool-calling data has turns
      where no tool is called, and no Nova document requires it.
    * Row counts are checked only when a platform is given (they differ per platform):
      Bedrock Nova 1 SFT/DPO/CPT 8–20,000; Bedrock Nova 2 SFT 200–20,000 (1.4.10 SDK and the
      AWS validator; the Nova 2 guide's table says 8, but recommends ≥200); Bedrock RFT
      100–20,000; SageMaker RFT ≥100. LOCAL has no bounds.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from amzn_nova_forge.core.enums import EvaluationTask, Model, Platform, TrainingMethod, Version
from amzn_nova_forge.dataset import _rules as R
from amzn_nova_forge.dataset._rules import Ctx, Rules
from amzn_nova_forge.dataset._validate_converse import check_fields, check_templated
from amzn_nova_forge.dataset._validate_other import (
    check_cpt,
    check_eval,
    check_judge,
    check_rft,
    check_rft_multiturn,
)
from amzn_nova_forge.errors import ConfigError, DatasetValidationError

__all__ = ["Problem", "Spec", "ValidationReport", "Validator", "resolve", "row_count_problem"]

logger = logging.getLogger(__name__)

Check = Callable[[Any, Ctx], int]


class Problem(NamedTuple):
    """One validation problem: 1-based source line (``None`` for dataset-level), JSON path, message."""

    line: int | None
    path: str | None
    message: str

    def __str__(self) -> str:
        where = f"line {self.line}" if self.line is not None else "dataset"
        return f"{where} {self.path or ''}: {self.message}".replace(" :", ":")


@dataclass
class Spec:
    """The rules chosen for one validation run."""

    check: Check
    rules: Rules
    label: str  # e.g. "SFT (Nova 2 Lite)"; used in messages
    kind: str  # "SFT", "DPO", "CPT", "RFT", "RFT multiturn", "Evaluation BYOD", "LLM judge"
    family: str
    #: (bit, JSON path, "error" | "warn") consistency rules
    features: tuple[tuple[int, str, str], ...] = ()


_CONVERSE_FEATURES = (
    (R.SYSTEM, "$.system", "error"),
    (R.IMAGE, "$.messages[*].content[*].image", "error"),
    (R.VIDEO, "$.messages[*].content[*].video", "error"),
    (R.DOCUMENT, "$.messages[*].content[*].document", "error"),
    (R.REASONING, "$.messages[*].content[*].reasoningContent", "error"),
    (R.TOOL_USE, "$.messages[*].content[*].toolUse", "warn"),
    (R.TOOL_RESULT, "$.messages[*].content[*].toolResult", "warn"),
)
_RFT_FEATURES = ((R.ID, "$.id", "error"), (R.REFERENCE, "$.reference_answer", "error"), (R.TOOLS, "$.tools", "error"))
_EVAL_FEATURES = ((R.SYSTEM, "$.system", "error"), (R.IMAGES, "$.images", "error"))
_MT_FEATURES = (
    (R.ANSWER, "$.metadata.answer", "error"),
    (R.TASK, "$.metadata.task", "error"),
    (R.INFO, "$.metadata.info", "error"),
)

_MODEL_LABEL = {
    Model.NOVA_MICRO: "Nova Micro",
    Model.NOVA_LITE: "Nova Lite",
    Model.NOVA_PRO: "Nova Pro",
    Model.NOVA_LITE_2: "Nova 2 Lite",
}


def _coerce(method: Any, model: Any, eval_task: Any, platform: Any) -> tuple[TrainingMethod, Model, Any, Any]:
    try:
        method = method if isinstance(method, TrainingMethod) else TrainingMethod(str(method).lower())
    except ValueError:
        raise ConfigError(
            f"Unknown training method {method!r}; use a TrainingMethod, e.g. TrainingMethod.SFT_LORA."
        ) from None
    if not isinstance(model, Model):
        model = (
            Model.from_model_name(str(model))
            if not str(model).startswith("amazon.")
            else (Model.from_model_type(str(model)))
        )
    if eval_task is not None and not isinstance(eval_task, EvaluationTask):
        eval_task = EvaluationTask(str(eval_task).lower())
    if platform is not None and not isinstance(platform, Platform):
        platform = Platform(str(platform))
    return method, model, eval_task, platform


def resolve(method: Any, model: Any, eval_task: Any = None, platform: Any = None) -> Spec:
    """Pick the rules for a dataset meant for ``method`` on ``model`` (and ``eval_task``).

    An ``eval_task`` selects the evaluation dataset rules whatever ``method`` is (the
    README validates a ``gen_qa`` set with ``method=SFT_LORA``). ``EVALUATION`` without a
    task means ``gen_qa``.

    Raises:
        ConfigError: The combination has no dataset (built-in benchmark) or is unsupported.
    """
    method, model, eval_task, platform = _coerce(method, model, eval_task, platform)
    fam = method.family
    mlabel = _MODEL_LABEL[model]
    if eval_task is not None or fam == "evaluation":
        task = eval_task or EvaluationTask.GEN_QA
        rules = Rules(model=model, platform=platform, eval_task=task)
        if task in (EvaluationTask.LLM_JUDGE, EvaluationTask.RUBRIC_LLM_JUDGE, EvaluationTask.MM_LLM_JUDGE):
            return Spec(check_judge, rules, f"LLM judge ({task.value})", "LLM judge", "evaluation")
        if task is EvaluationTask.RFT_EVAL:
            return Spec(check_rft, rules, "RFT evaluation", "RFT evaluation", "evaluation", _RFT_FEATURES)
        if task is EvaluationTask.RFT_MULTITURN_EVAL:
            return Spec(
                check_rft_multiturn,
                rules,
                "RFT multiturn evaluation",
                "RFT multiturn evaluation",
                "evaluation",
                _MT_FEATURES,
            )
        if not task.is_byod:
            raise ConfigError(
                f"EvaluationTask.{task.name} is a built-in benchmark and takes no dataset; "
                "only BYOD tasks (GEN_QA, LLM_JUDGE, ...) have a dataset to validate."
            )
        return Spec(check_eval, rules, "Evaluation BYOD", "Evaluation BYOD", "evaluation", _EVAL_FEATURES)
    if fam == "sft":
        return Spec(
            check_templated, Rules.for_converse(model, platform), f"SFT ({mlabel})", "SFT", fam, _CONVERSE_FEATURES
        )
    if fam == "dpo":
        if model.version is Version.TWO:
            raise ConfigError("DPO is supported only on Nova 1 models (NOVA_MICRO, NOVA_LITE, NOVA_PRO).")
        return Spec(
            check_templated,
            Rules.for_converse(model, platform, dpo=True),
            f"DPO ({mlabel})",
            "DPO",
            fam,
            _CONVERSE_FEATURES,
        )
    if fam == "cpt":
        return Spec(check_cpt, Rules(model=model, platform=platform), f"CPT ({mlabel})", "CPT", fam)
    if fam in ("rft", "rft_multiturn"):
        if model is not Model.NOVA_LITE_2:
            raise ConfigError(
                f"{'RFT' if fam == 'rft' else 'RFT multiturn'} is supported only on Model.NOVA_LITE_2, "
                f"not Model.{model.name}."
            )
        rules = Rules(model=model, platform=platform, single_turn=fam == "rft")
        if fam == "rft":
            return Spec(check_rft, rules, "RFT (Nova 2 Lite)", "RFT", fam, _RFT_FEATURES)
        return Spec(check_rft_multiturn, rules, "RFT multiturn (Nova 2 Lite)", "RFT multiturn", fam, _MT_FEATURES)
    raise ConfigError(f"No dataset rules for method {method!r}.")  # pragma: no cover


def row_count_problem(
    family: str, model: Model, platform: Platform | None, rows: int, global_batch_size: int | None = None
) -> str | None:
    """The row-count rule broken by ``rows`` records, or ``None`` (see the module docstring)."""
    if platform is None or platform is Platform.LOCAL:
        return None
    lo, hi = 0, None
    if platform is Platform.BEDROCK:
        if family in ("sft", "dpo", "cpt"):
            lo, hi = (200 if model.version is Version.TWO and family == "sft" else 8), 20_000
        elif family == "rft":
            lo, hi = 100, 20_000
    elif family == "rft":
        lo = 100
    if family == "sft" and global_batch_size and platform in (Platform.SMTJ, Platform.SMHP):
        lo = max(lo, global_batch_size)
    if rows < lo:
        return f"{rows:,} records; {family.upper()} on {platform.value} with Model.{model.name} needs at least {lo:,}"
    if hi is not None and rows > hi:
        return f"{rows:,} records; {family.upper()} on {platform.value} with Model.{model.name} allows at most {hi:,}"
    return None


@dataclass
class ValidationReport:
    """What a validation run found."""

    label: str
    records: int
    kind: str = ""
    problems: list[Problem] = field(default_factory=list)
    total: int = 0
    bad_records: int = 0
    warnings: list[str] = field(default_factory=list)
    source: str | None = None
    hint: str | None = None

    @property
    def ok(self) -> bool:
        return self.total == 0

    def summary(self, limit: int = 25) -> str:
        if self.ok:
            return f"Validation succeeded for {self.records} samples on {_article(self.kind or self.label)} dataset"
        lines = [
            f"{self.label} dataset is invalid: {self.total:,} problem{'s' if self.total != 1 else ''} in "
            f"{self.bad_records:,} of {self.records:,} records" + (f" ({self.source})" if self.source else "") + ":"
        ]
        if self.hint:
            lines.append(f"  hint: {self.hint}")
        lines += [f"  {p}" for p in self.problems[:limit]]
        if self.total > limit:
            lines.append(
                f"  ... and {self.total - limit:,} more (all listed problems are on .problems; "
                f"{len(self.problems):,} kept)"
            )
        return "\n".join(lines)

    def raise_for_problems(self) -> None:
        if not self.ok:
            raise DatasetValidationError(self.summary(), problems=self.problems, total=self.total, path=None)


def _article(kind: str) -> str:
    return ("a " if kind.startswith(("DPO", "CPT")) else "an ") + kind


class Validator:
    """Streaming validator: :meth:`feed` each record with its source line, then :meth:`finish`."""

    #: At most this many media objects are checked against S3 (``check_media``).
    MAX_MEDIA = 100_000

    def __init__(
        self, spec: Spec, *, max_problems: int = 1000, global_batch_size: int | None = None, check_media: bool = False
    ) -> None:
        self.spec = spec
        self.check = spec.check
        self.ctx = Ctx(rules=spec.rules, media=[] if check_media else None)
        self.media_refs: list[tuple[str, str, str, int, str]] = []
        self.max_problems = max_problems
        self.global_batch_size = global_batch_size
        self.problems: list[Problem] = []
        self.total = 0
        self.bad = 0
        self.n = 0
        self.masks: dict[int, list[int]] = {}  # mask -> [count, first line]
        self.warns: dict[str, list[Any]] = {}  # key -> [count, first line, path, message]

    @property
    def accepts_fields(self) -> bool:
        """True when :meth:`feed_fields` applies (SFT rules; the generic transform's fast path)."""
        return self.check is check_templated and not self.spec.rules.dpo

    def feed_fields(self, fields: tuple[Any, ...], line: int) -> None:
        """Like :meth:`feed` for a templated SFT record given by its values."""
        ctx = self.ctx
        mask = check_fields(fields, ctx)
        if not (ctx.errs or ctx.warns or ctx.media):  # the hot path: a clean record
            self.n += 1
            m = self.masks.get(mask)
            if m is not None:
                m[0] += 1
            else:
                self.masks[mask] = [1, line]
            return
        self._record(mask, line)

    def add_clean(self, count: int, line: int) -> None:
        """Count ``count`` clean plain SFT records (feature mask 0), the first at ``line``."""
        self.n += count
        m = self.masks.get(0)
        if m is not None:
            m[0] += count
        else:
            self.masks[0] = [count, line]

    @property
    def mergeable(self) -> bool:
        """True when records may be checked in separate validators and merged (:meth:`merge`) in order.

        Not with ``check_media`` (media references are collected) nor RFT multiturn (the
        first record's shape binds the rest).
        """
        return self.ctx.media is None and self.check is not check_rft_multiturn

    def state(self) -> tuple[Any, ...]:
        """What :meth:`merge` needs (small: at most ``max_problems`` problems, one entry per mask/warning)."""
        return (self.n, self.masks, self.problems, self.total, self.bad, self.warns)

    def merge(self, state: tuple[Any, ...], line_offset: int) -> None:
        """Add the :meth:`state` of a validator that saw the next records, its lines shifted by ``line_offset``.

        Merging the states of consecutive parts in file order gives exactly the state of
        one validator fed every record (counts add up, first lines and first messages
        come from the earliest part).
        """
        n, masks, problems, total, bad, warns = state
        self.n += n
        for mask, (count, first) in masks.items():
            m = self.masks.get(mask)
            if m is None:
                self.masks[mask] = [count, first + line_offset]
            else:
                m[0] += count
        room = self.max_problems - len(self.problems)
        if room > 0:
            self.problems.extend(
                Problem(p.line + line_offset if p.line is not None else None, p.path, p.message)
                for p in problems[:room]
            )
        self.total += total
        self.bad += bad
        for key, (count, first, path, msg) in warns.items():
            w = self.warns.get(key)
            if w is None:
                self.warns[key] = [count, first + line_offset, path, msg]
            else:
                w[0] += count

    def clear(self) -> None:
        """Forget every record fed so far (a pass that starts again)."""
        self.problems, self.media_refs = [], []
        self.total = self.bad = self.n = 0
        self.masks, self.warns = {}, {}
        self.ctx.errs.clear()
        self.ctx.warns.clear()
        self.ctx.shape = None
        if self.ctx.media is not None:
            self.ctx.media.clear()

    def feed(self, rec: Any, line: int) -> None:
        """Validate one record (``line`` is its 1-based source line)."""
        self._record(self.check(rec, self.ctx), line)

    def _record(self, mask: int, line: int) -> None:
        self.n += 1
        ctx = self.ctx
        if ctx.media:
            if len(self.media_refs) < self.MAX_MEDIA:
                self.media_refs.extend((k, f, u, line, p) for k, f, u, p in ctx.media)
            ctx.media.clear()
        m = self.masks.get(mask)
        if m is None:
            self.masks[mask] = [1, line]
        else:
            m[0] += 1
        if ctx.errs:
            self._take(line)
        if ctx.warns:
            for key, path, msg in ctx.warns:
                w = self.warns.get(key)
                if w is None:
                    self.warns[key] = [1, line, path, msg]
                else:
                    w[0] += 1
            ctx.warns.clear()

    def _take(self, line: int) -> None:
        errs = self.ctx.errs
        self.bad += 1
        self.total += len(errs)
        room = self.max_problems - len(self.problems)
        if room > 0:
            self.problems.extend(Problem(line, p, msg) for p, msg in errs[:room])
        errs.clear()

    def _dataset_problem(self, line: int | None, path: str | None, msg: str) -> None:
        self.total += 1
        if len(self.problems) < self.max_problems:
            self.problems.append(Problem(line, path, msg))

    def finish(self, source: str | None = None) -> ValidationReport:
        spec = self.spec
        if self.n == 0:
            self._dataset_problem(None, None, "the dataset is empty")
        for bit, path, level in spec.features:
            have = [(c, first) for mk, (c, first) in self.masks.items() if mk & bit]
            lack = [(c, first) for mk, (c, first) in self.masks.items() if not mk & bit]
            if not have or not lack:
                continue
            n_have, n_lack = sum(c for c, _ in have), sum(c for c, _ in lack)
            first_have, first_lack = min(f for _, f in have), min(f for _, f in lack)
            msg = (
                f"used in {n_have:,} records but missing in {n_lack:,} (first with it: line {first_have}, first "
                f"without: line {first_lack}); use it in every record or in none"
            )
            if level == "error":
                self._dataset_problem(first_have if n_have < n_lack else first_lack, path, msg)
            else:
                self.warns.setdefault(f"consistency{bit}", [n_lack, first_lack, path, msg])
        media = {R.IMAGE: "images", R.VIDEO: "videos", R.DOCUMENT: "documents"}
        kinds = [name for bit, name in media.items() if any(mk & bit for mk in self.masks)]
        if len(kinds) > 1:
            self._dataset_problem(
                None,
                "$.messages",
                f"the dataset mixes {' and '.join(kinds)}; one dataset holds text only, or text with one media type",
            )
        rows_msg = row_count_problem(spec.family, spec.rules.model, spec.rules.platform, self.n, self.global_batch_size)
        if rows_msg:
            self._dataset_problem(None, None, rows_msg)
        media_warnings: list[str] = []
        if self.ctx.media is not None and self.media_refs:
            from amzn_nova_forge.dataset._media import check_media

            found, media_warnings = check_media(self.media_refs, source)
            for line, path, msg in found:
                self._dataset_problem(line, path, msg)
            if len(self.media_refs) >= self.MAX_MEDIA:
                media_warnings.append(f"only the first {self.MAX_MEDIA:,} media references were checked in S3")
        report = ValidationReport(spec.label, self.n, spec.kind, self.problems, self.total, self.bad, source=source)
        report.warnings.extend(media_warnings)
        for count, first, path, msg in self.warns.values():
            report.warnings.append(
                f"{path}: {msg} ({count:,} record{'s' if count != 1 else ''}, first at line {first})"
            )
        return report
