"""What a filter run reports: per step (official :class:`FilterOperationResult`) and per run."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

__all__ = ["CurationResult", "FilterOperationResult"]


@dataclass
class FilterOperationResult:
    """The outcome of one filter step (the official result, with the reasons added).

    Attributes:
        status: ``"SUCCEEDED"``.
        output_state: Where this step's outputs are (its ``output_path`` folder or prefix).
        filtered_count: Records this step dropped.
        total_count: Records that reached this step.
        filters_applied: The rules/checks the step applied.
        method: The ``FilterMethod`` value.
        dropped_path: The side file holding every dropped record with its reason.
        reasons: Dropped records per reason (e.g. ``{"url_ratio": 3, "too_short": 9}``).

    Example:
        >>> r = FilterOperationResult("SUCCEEDED", None, filtered_count=2, total_count=10)
        >>> str(r)
        '10 records → 8 kept, 2 dropped'
    """

    status: str
    output_state: str | None
    filtered_count: int
    total_count: int
    filters_applied: list[str] = field(default_factory=list)
    method: str = ""
    dropped_path: str | None = None
    reasons: dict[str, int] = field(default_factory=dict)

    @property
    def kept_count(self) -> int:
        """Records this step kept."""
        return self.total_count - self.filtered_count

    def __str__(self) -> str:
        if self.total_count > 0:
            return f"{self.total_count} records → {self.kept_count} kept, {self.filtered_count} dropped"
        return "counts unknown"

    def to_dict(self) -> dict[str, Any]:
        """Plain data (``None`` values left out, as the official ``to_dict``)."""
        return {k: v for k, v in asdict(self).items() if v is not None}


@dataclass
class CurationResult:
    """The outcome of one ``execute()``: every step, in order.

    Attributes:
        steps: One :class:`FilterOperationResult` per queued filter.
        input_count: Records before the first filter.
        output_count: Records after the last one.
        seconds: Wall time of the run.
        executor: Where it ran (``"local"``, ``"serial"``, ``"ray"``, ``"smtj"``, ``"glue"``).

    Example:
        >>> loader.last_curation.steps[0].filtered_count  # doctest: +SKIP
        12
    """

    steps: list[FilterOperationResult]
    input_count: int
    output_count: int
    seconds: float = 0.0
    executor: str = ""

    def __str__(self) -> str:
        lines = [f"{self.input_count:,} records → {self.output_count:,} kept ({self.executor}, {self.seconds:.1f} s)"]
        for s in self.steps:
            why = ", ".join(f"{k} {v:,}" for k, v in sorted(s.reasons.items()))
            lines.append(f"  {s.method}: {s}" + (f" ({why})" if why else ""))
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "steps": [s.to_dict() for s in self.steps]}
