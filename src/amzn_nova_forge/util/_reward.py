"""Public path of ``verify_reward_function`` (``amzn_nova_forge.util.verify_reward_function``).

The verifier lives in :mod:`amzn_nova_forge.manager._reward_check`, the layer that the runtime
managers (``runtime.validate_lambda``) can import; this module re-exports it under its published
name. Its limits (``MAX_OUTPUT_BYTES``, ``MAX_LOG_BYTES``) are read from ``manager._reward_check``.

Example:
    >>> from amzn_nova_forge.util._reward import verify_reward_function
    >>> verify_reward_function.__name__
    'verify_reward_function'
"""

from __future__ import annotations

from amzn_nova_forge.manager._reward_check import (
    MAX_LOG_BYTES as MAX_LOG_BYTES,
    MAX_OUTPUT_BYTES as MAX_OUTPUT_BYTES,
    verify_reward_function as verify_reward_function,
)

__all__ = ["MAX_LOG_BYTES", "MAX_OUTPUT_BYTES", "verify_reward_function"]
