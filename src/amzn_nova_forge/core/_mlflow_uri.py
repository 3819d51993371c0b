"""MLflow tracking-URI classification shared by the monitor and the local runtime.

Lives in ``core`` so that the local runtime (``manager``) can validate a tracking URI without
importing the ``monitor`` package above it; :mod:`amzn_nova_forge.monitor._mlflow` re-exports
:func:`uri_kind`.
"""

from __future__ import annotations

import re

from amzn_nova_forge.errors import ConfigError

__all__ = ["ARN_RE", "check_uri", "uri_kind"]

#: A SageMaker MLflow app or tracking-server ARN (groups: region, account, kind, name).
ARN_RE = re.compile(
    r"^arn:aws[a-z-]*:sagemaker:(?P<region>[a-z0-9-]+):(?P<account>\d+):"
    r"(?P<kind>mlflow-app|mlflow-tracking-server)/(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)$"
)
_URL_RE = re.compile(r"^https?://[^\s/]+")
#: Store URIs MLflow opens itself (on this machine): databases and the file store.
_STORE_RE = re.compile(r"^(sqlite|postgresql|mysql|mssql)(\+[a-z0-9_]+)?://\S+$|^file:\S+$|^databricks(-uc)?(://\S*)?$")
#: A local folder given as a path (explicit, so that a typo such as ``mlflow-app/x`` is not taken for one).
_PATH_RE = re.compile(r"^(\.{1,2}[/\\]|[/\\~]|[A-Za-z]:[/\\])")


def uri_kind(uri: str) -> str:
    """``"sagemaker"`` (an MLflow app / tracking server ARN), ``"http"``, ``"store"`` (a database or
    file store opened on this machine) or ``"path"`` (a local folder); ``""`` when not an MLflow URI.

    Example:
        >>> [uri_kind(u) for u in ("https://mlflow.example.com", "sqlite:///mlflow.db", "./mlruns", "ftp://x")]
        ['http', 'store', 'path', '']
    """
    if ARN_RE.match(uri):
        return "sagemaker"
    if _URL_RE.match(uri):
        return "http"
    if _STORE_RE.match(uri):
        return "store"
    if _PATH_RE.match(uri):
        return "path"
    return ""


def check_uri(uri: str) -> None:
    """Raise :class:`ConfigError` naming the accepted forms unless ``uri`` is an MLflow URI.

    Example:
        >>> check_uri("sqlite:///mlflow.db")
        >>> check_uri("ftp://x")  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        amzn_nova_forge.errors.ConfigError: Invalid MLflow tracking_uri 'ftp://x'. ...
    """
    if uri_kind(uri):
        return
    raise ConfigError(
        f"Invalid MLflow tracking_uri {uri!r}. Use a SageMaker MLflow app or tracking server ARN "
        "(arn:aws:sagemaker:<region>:<account>:mlflow-app/<id> or .../mlflow-tracking-server/<name>), "
        "an http(s):// URL of your own MLflow server, or (local runtime only) sqlite:///mlflow.db, "
        "file:///path or a folder such as ./mlruns."
    )
