"""Constants at the official module path ``amzn_nova_forge.core.constants``.

The evaluation tables are views of the attributes of :class:`EvaluationTask` (``.subtasks``,
``.metric``, ``.strategy``, ``.is_byod``), so there is one source.

Example:
    >>> from amzn_nova_forge.core.constants import EVAL_TASK_METRIC_MAP, get_available_subtasks
    >>> EVAL_TASK_METRIC_MAP[EvaluationTask.MATH]
    <EvaluationMetric.EXACT_MATCH: 'exact_match'>
    >>> len(get_available_subtasks(EvaluationTask.MMLU))
    57
"""

from __future__ import annotations

from amzn_nova_forge.core.config import DEFAULT_JOB_CACHE_DIR
from amzn_nova_forge.core.enums import EvaluationMetric, EvaluationStrategy, EvaluationTask

__all__ = [
    "BYOD_AVAILABLE_EVAL_TASKS",
    "DEFAULT_JOB_CACHE_DIR",
    "DEFAULT_REGION",
    "EVAL_AVAILABLE_SUBTASKS",
    "EVAL_TASK_METRIC_MAP",
    "EVAL_TASK_STRATEGY_MAP",
    "get_available_subtasks",
]

#: Region used when none is configured.
DEFAULT_REGION = "us-east-1"
#: Subtasks per evaluation task (tasks without subtasks are absent).
EVAL_AVAILABLE_SUBTASKS: dict[EvaluationTask, list[str]] = {t: list(t.subtasks) for t in EvaluationTask if t.subtasks}
#: The metric each task reports.
EVAL_TASK_METRIC_MAP: dict[EvaluationTask, EvaluationMetric] = {t: EvaluationMetric(t.metric) for t in EvaluationTask}
#: The prompting strategy of each task.
EVAL_TASK_STRATEGY_MAP: dict[EvaluationTask, EvaluationStrategy] = {
    t: EvaluationStrategy(t.strategy) for t in EvaluationTask
}
#: Values of the tasks that read your own data (``data_s3_path``).
BYOD_AVAILABLE_EVAL_TASKS: list[str] = [t.value for t in EvaluationTask if t.is_byod]


def get_available_subtasks(task: EvaluationTask) -> list[str]:
    """The subtasks of ``task`` (empty when it has none).

    Example:
        >>> get_available_subtasks(EvaluationTask.STRONG_REJECT)
        ['dangerous_or_sensitive_topics', 'offensive_language']
    """
    return list(EvaluationTask(task).subtasks)
