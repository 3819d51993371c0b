"""The live status lookup behind ``DeploymentResult.status`` (``model/_deploy_status.py``)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from amzn_nova_forge.core.enums import DeployPlatform
from amzn_nova_forge.errors import ConfigError
from amzn_nova_forge.model import _deploy_status
from amzn_nova_forge.model._deploy_targets import TARGETS
from amzn_nova_forge.model.result import DeploymentResult, EndpointInfo


def test_every_deploy_target_has_a_status_lookup() -> None:
    assert set(_deploy_status.STATUS) == set(TARGETS)


def test_components_on_a_bedrock_endpoint_are_refused() -> None:
    info = EndpointInfo(DeployPlatform.BEDROCK_OD, "ep", "arn:aws:bedrock:us-east-1:1:x", "s3://b/c/", "us-east-1")
    with pytest.raises(ConfigError, match="Inference components exist only on SageMaker endpoints, not 'bedrock_od'"):
        _deploy_status.endpoint_status(info, ["ic-1"])


def test_unknown_target_key_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delitem(_deploy_status.STATUS, "local")
    info = EndpointInfo(DeployPlatform.LOCAL, "ep", "http://127.0.0.1:9", "/tmp/ckpt", None)
    with pytest.raises(ConfigError, match="No status lookup for deploy target 'local'; known: bedrock_od, "):
        _deploy_status.endpoint_status(info)


def test_loaded_result_answers_status_in_a_fresh_process_without_the_deploy_modules(tmp_path: Path) -> None:
    info = EndpointInfo(DeployPlatform.LOCAL, "local-ep", "http://127.0.0.1:9", "/tmp/ckpt", None)
    saved = DeploymentResult(endpoint=info, model_arn="/tmp/ckpt").dump(str(tmp_path))
    script = textwrap.dedent(
        f"""
        import json, sys
        from amzn_nova_forge.model.result import DeploymentResult
        r = DeploymentResult.load({str(saved)!r})
        status, message = r.get_status()
        deploy = sorted(m for m in sys.modules if m.startswith("amzn_nova_forge.model._deploy"))
        print(json.dumps({{"status": r.status, "message": bool(message), "deploy_modules": deploy}}))
        """
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120, env=env)
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    assert out == {"status": "NotRunning", "message": True, "deploy_modules": ["amzn_nova_forge.model._deploy_status"]}
