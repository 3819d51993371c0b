"""Public path of ``verify_reward_function`` (``amzn_nova_forge.util.verify_reward_function``).

The verifier lives in :mod:`amzn_nova_forge.manager._reward_check`, the layer that the runtime
managers (``runtime.validate_lambda``) can import. This module is that same module under its
published name: ``sys.modules`` maps both names to one module object, so a setting changed
through either name (for example ``MAX_OUTPUT_BYTES``) is the one the verifier reads.

Example:
    >>> from amzn_nova_forge.util._reward import verify_reward_function
    >>> verify_reward_function.__name__
    'verify_reward_function'
"""

from __future__ import annotations

import sys

from amzn_nova_forge.manager import _reward_check
from amzn_nova_forge.manager._reward_check import (
    MAX_LOG_BYTES as MAX_LOG_BYTES,
    MAX_OUTPUT_BYTES as MAX_OUTPUT_BYTES,
    verify_reward_function as verify_reward_function,
)

__all__ = ["MAX_LOG_BYTES", "MAX_OUTPUT_BYTES", "verify_reward_function"]

sys.modules[__name__] = _reward_check
