"""The only place the SDK creates boto3 clients.

Clients retry throttling and 5xx with backoff: with the user's own retry settings when they set
any (``AWS_RETRY_MODE`` / ``AWS_MAX_ATTEMPTS``, or ``retry_mode`` / ``max_attempts`` in the
profile of ``~/.aws/config``), else with botocore's adaptive mode. They carry the SDK's user agent, and honour ``AWS_ENDPOINT_URL`` (and the
per-service ``AWS_ENDPOINT_URL_<SERVICE>``) as boto3 itself does. Nothing here runs
at import time; clients are cached per (service, region) per thread.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Iterator
from typing import Any

from amzn_nova_forge._config import default_region
from amzn_nova_forge.errors import AWSServiceError

__all__ = ["aws_errors", "client", "resolve_region", "session", "user_retry_settings"]

_local = threading.local()
USER_AGENT_EXTRA = "amzn-nova-forge"


def resolve_region(region: str | None = None) -> str:
    """Explicit region, else the environment's, else us-east-1."""
    return region or default_region()


def session(region: str | None = None) -> Any:
    """A boto3 session for ``region`` (cached per thread)."""
    import boto3

    region = resolve_region(region)
    cache = getattr(_local, "sessions", None)
    if cache is None:
        cache = _local.sessions = {}
    key = (region, os.environ.get("AWS_PROFILE"), os.environ.get("AWS_ACCESS_KEY_ID"))
    sess = cache.get(key)
    if sess is None:
        sess = cache[key] = boto3.session.Session(region_name=region)
    return sess


def user_retry_settings(sess: Any = None) -> dict[str, str]:
    """The retry settings the user chose: ``{"retry_mode": .., "max_attempts": ..}`` (only those set).

    Read from ``AWS_RETRY_MODE`` / ``AWS_MAX_ATTEMPTS`` and from the active profile of the AWS
    config file. An empty dict means the user set none, so the SDK's default applies.

    Example:
        >>> os.environ["AWS_MAX_ATTEMPTS"] = "3"; user_retry_settings()  # doctest: +SKIP
        {'max_attempts': '3'}
    """
    out: dict[str, str] = {}
    for name, env in (("retry_mode", "AWS_RETRY_MODE"), ("max_attempts", "AWS_MAX_ATTEMPTS")):
        if os.environ.get(env, "").strip():
            out[name] = os.environ[env].strip()
    if len(out) == 2:
        return out
    try:
        scoped = (sess or session())._session.get_scoped_config()
    except Exception:  # a missing profile is reported by the first real call
        scoped = {}
    for name in ("retry_mode", "max_attempts"):
        if name not in out and str(scoped.get(name, "")).strip():
            out[name] = str(scoped[name]).strip()
    return out


def client(service: str, region: str | None = None, *, max_attempts: int = 8) -> Any:
    """Return a boto3 client for ``service`` in ``region`` with retries.

    ``max_attempts`` (with adaptive mode) applies only when the user configured no retry
    settings of their own (see :func:`user_retry_settings`); theirs win otherwise.

    Example:
        >>> sm = client("sagemaker", "us-east-1")  # doctest: +SKIP
    """
    from botocore.config import Config

    region = resolve_region(region)
    cache = getattr(_local, "clients", None)
    if cache is None:
        cache = _local.clients = {}
    endpoint = os.environ.get(f"AWS_ENDPOINT_URL_{service.upper().replace('-', '_')}") or os.environ.get(
        "AWS_ENDPOINT_URL"
    )
    sess = session(region)
    user = user_retry_settings(sess)
    key = (service, region, endpoint, os.environ.get("AWS_ACCESS_KEY_ID"), max_attempts, tuple(sorted(user.items())))
    c = cache.get(key)
    if c is None:
        # botocore reads the user's env / config-file retry settings itself when none are passed
        retries = None if user else {"mode": "adaptive", "max_attempts": max_attempts}
        cfg = Config(retries=retries, user_agent_extra=USER_AGENT_EXTRA)
        kwargs: dict[str, Any] = {"config": cfg}
        if endpoint:
            kwargs["endpoint_url"] = endpoint
        c = cache[key] = sess.client(service, **kwargs)
    return c


def clear_cache() -> None:
    """Forget cached sessions and clients (tests call this between AWS mocks)."""
    _local.sessions = {}
    _local.clients = {}


@contextlib.contextmanager
def aws_errors(service: str, hint: str = "") -> Iterator[None]:
    """Turn botocore errors raised inside the block into :class:`AWSServiceError`.

    The message keeps the operation name, error code and request id.
    """
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        yield
    except ClientError as e:
        raise AWSServiceError.from_client_error(e, service=service, hint=hint) from e
    except BotoCoreError as e:
        if type(e).__name__ in ("NoCredentialsError", "PartialCredentialsError"):
            hint = _NO_CREDENTIALS_HINT
        raise AWSServiceError(f"{service} call failed: {e}. {hint}".strip(), service=service) from e


#: Said whenever a call finds no AWS credentials (the most common first-run problem).
_NO_CREDENTIALS_HINT = (
    "Configure AWS credentials (aws configure, AWS_PROFILE, or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY). "
    "To check a configuration offline, turn the AWS checks off: "
    "validation_config={'iam': False, 'infra': False} with dry_run=True "
    "(CLI: --dry-run --no-iam-check --no-infra-check)."
)
