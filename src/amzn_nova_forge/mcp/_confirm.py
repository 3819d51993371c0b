"""Confirmation tokens: nothing that spends money starts without an explicit second call.

A tool that would start a job or create an endpoint first answers with a *plan* (the dry
run) and a token. The token is an HMAC over the tool name and its exact arguments, signed
with a secret that lives only in this server process, and it expires. Calling the tool again
with the same arguments and that token starts the work; different arguments, an old token or
a token from another server are refused with a message that says to dry-run again.

Example:
    >>> c = Confirmations(ttl_s=60)
    >>> token = c.issue("train", {"job_name": "a"})
    >>> c.check("train", {"job_name": "a"}, token)
    >>> c.check("train", {"job_name": "b"}, token)
    Traceback (most recent call last):
    ...
    amzn_nova_forge.errors.ConfigError: confirm_token does not match these arguments: ...
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
from collections.abc import Callable, Mapping

from amzn_nova_forge.errors import ConfigError

__all__ = ["Confirmations"]

_DEFAULT_TTL_S = 15 * 60


def _canonical(tool: str, arguments: Mapping[str, object]) -> bytes:
    payload = {k: v for k, v in arguments.items() if k != "confirm_token"}
    return json.dumps([tool, payload], sort_keys=True, separators=(",", ":"), default=str).encode()


class Confirmations:
    """Issues and checks confirmation tokens for one server process.

    Args:
        ttl_s: How long a token stays valid, in seconds.
        clock: Time source (seconds); tests pass a fake one.
    """

    def __init__(self, *, ttl_s: float = _DEFAULT_TTL_S, clock: Callable[[], float] = time.time) -> None:
        if ttl_s <= 0:
            raise ConfigError(f"ttl_s must be positive, got {ttl_s!r}.")
        self._secret = secrets.token_bytes(32)
        self._ttl_s = ttl_s
        self._clock = clock

    def _mac(self, tool: str, arguments: Mapping[str, object], issued: int) -> str:
        msg = str(issued).encode() + b"|" + _canonical(tool, arguments)
        return hmac.new(self._secret, msg, hashlib.sha256).hexdigest()[:32]

    def issue(self, tool: str, arguments: Mapping[str, object]) -> str:
        """A token that confirms exactly ``tool(**arguments)`` for ``ttl_s`` seconds."""
        issued = int(self._clock())
        raw = f"{issued}.{self._mac(tool, arguments, issued)}"
        return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")

    def check(self, tool: str, arguments: Mapping[str, object], token: str) -> None:
        """Accept ``token`` for ``tool(**arguments)`` or raise :class:`ConfigError` saying why.

        Raises:
            ConfigError: The token is malformed, expired, or was issued for other arguments.
        """
        again = f"Call {tool} without confirm_token to get a fresh plan and token."
        try:
            padded = token + "=" * (-len(token) % 4)
            issued_s, mac = base64.urlsafe_b64decode(padded.encode()).decode().split(".", 1)
            issued = int(issued_s)
        except (ValueError, UnicodeDecodeError):
            raise ConfigError(f"confirm_token is not a token this server issued. {again}") from None
        if not hmac.compare_digest(mac, self._mac(tool, arguments, issued)):
            raise ConfigError(
                f"confirm_token does not match these arguments: confirm exactly the plan you were shown. {again}"
            )
        age = self._clock() - issued
        if age > self._ttl_s or age < -5:
            raise ConfigError(f"confirm_token expired ({int(age)} s old; tokens last {int(self._ttl_s)} s). {again}")
