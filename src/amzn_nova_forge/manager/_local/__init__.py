"""The local runtime: rehearse Nova customization on this machine (torch is imported only by the worker).

Public: :class:`LocalRuntimeManager`. Internals: ``_manager`` (submission, status from the job
folder), ``_worker`` (the detached process), ``_jobs`` / ``_engine`` / ``_dpo`` / ``_rft`` / ``_batches`` (training),
``_eval`` / ``_metrics`` (evaluation, batch inference), ``_serve`` / ``_deploy`` (local server),
``_tiny`` (offline tiny model), ``_load`` (model loading), ``_spawn`` (detached processes).
"""

from __future__ import annotations

from amzn_nova_forge.manager._local._manager import LocalRuntimeManager

__all__ = ["LocalRuntimeManager"]
