"""Shared fixtures: moto-backed AWS (no network), clean environment, tiny helpers.

* ``aws``: in-process moto (``mock_aws``) with dummy credentials in us-east-1.
* ``moto_server``: a ``ThreadedMotoServer`` on 127.0.0.1 with ``AWS_ENDPOINT_URL`` set,
  for end-to-end tests over real HTTP.
* ``no_aws_credentials``: removes every AWS credential source (proves offline paths make no call).
Sockets are disabled by pytest-socket except to 127.0.0.1 (see pyproject addopts).
"""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator

import pytest

_AWS_VARS = (
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
    "AWS_ENDPOINT_URL",
    "AWS_REGION",
    "AWS_DEFAULT_REGION",
    "AWS_CONFIG_FILE",
    "AWS_SHARED_CREDENTIALS_FILE",
)


_REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _root_entries() -> set[str]:
    try:
        return set(os.listdir(_REPO_ROOT))
    except OSError:  # pragma: no cover - the checkout is always there
        return set()


_RESULT_SUFFIXES = {f"{p}.json" for p in ("SMTJ", "SMHP", "BEDROCK", "SMTJServerless", "LOCAL")}


def _sdk_litter(names: set[str]) -> list[str]:
    """Entries the SDK writes into the current directory by default (job cache, saved results, demos)."""
    return sorted(
        n
        for n in names
        if n == ".cached-nova-jobs" or n.startswith("nova-forge-demo") or n.rsplit("_", 1)[-1] in _RESULT_SUFFIXES
    )


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Each test starts with no real AWS config, progress bars off and fresh client caches.

    The SDK's default folders under ``~`` (local jobs, RFT workspace) point into a private
    temporary folder, and a test that leaves job results or a job cache in the repository
    root (the SDK's current-directory defaults) fails.
    """
    for var in _AWS_VARS:
        monkeypatch.delenv(var, raising=False)
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(home / "aws_config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(home / "aws_credentials"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("NOVA_FORGE_DISABLE_PROGRESS_BARS", "1")
    monkeypatch.setenv("NOVA_FORGE_LOCAL_JOBS_DIR", str(home / ".nova-forge" / "local-jobs"))
    monkeypatch.setenv("NOVA_FORGE_RFT_WORKSPACE", str(home / ".nova-forge" / "rft-workspace"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("TRANSFORMERS_OFFLINE", "1")
    from amzn_nova_forge.core import aws

    before = _root_entries()
    aws.clear_cache()
    yield
    aws.clear_cache()
    litter = _sdk_litter(_root_entries() - before)
    assert not litter, f"the test left {litter} in {_REPO_ROOT}; chdir to tmp_path or pass an explicit path"


@pytest.fixture
def aws_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    for var in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SECURITY_TOKEN", "AWS_SESSION_TOKEN"):
        monkeypatch.setenv(var, "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")


@pytest.fixture
def aws(aws_credentials: None) -> Iterator[object]:
    """In-process moto for every AWS service; yields a boto3 session in us-east-1."""
    import boto3
    from moto import mock_aws

    from amzn_nova_forge.core import aws as aws_factory

    with mock_aws():
        aws_factory.clear_cache()
        yield boto3.session.Session(region_name="us-east-1")
    aws_factory.clear_cache()


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def moto_server(aws_credentials: None, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A ``ThreadedMotoServer`` on 127.0.0.1; ``AWS_ENDPOINT_URL`` points at it. Yields the URL."""
    from moto.server import ThreadedMotoServer

    from amzn_nova_forge.core import aws as aws_factory

    port = _free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    url = f"http://127.0.0.1:{port}"
    monkeypatch.setenv("AWS_ENDPOINT_URL", url)
    aws_factory.clear_cache()
    try:
        yield url
    finally:
        server.stop()
        aws_factory.clear_cache()


@pytest.fixture
def no_aws_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    """No credentials anywhere: any AWS call would fail with NoCredentialsError."""
    for var in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(var, raising=False)


@pytest.fixture
def s3_bucket(aws: object) -> str:
    """A moto bucket named ``my-bucket`` (the name the spec's examples use)."""
    import boto3

    boto3.client("s3", region_name="us-east-1").create_bucket(Bucket="my-bucket")
    return "my-bucket"
