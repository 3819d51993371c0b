"""Training utilities: batch sample tracing (``trainer.utils.batch_trace``)."""

from __future__ import annotations

from amzn_nova_forge.errors import BatchTraceError

__all__ = ["BatchTraceError"]
