"""DeployPlatform.LOCAL: deploy hands the checkpoint to the local runtime's server and records its URL.

The server itself belongs to the local runtime (tests/local); here its ``deploy_model`` is
replaced by a recorder so that the hook's contract is checked without torch.
"""

from __future__ import annotations

import pytest

from amzn_nova_forge.core.enums import DeployPlatform, Model, TrainingMethod
from amzn_nova_forge.manager._local import LocalRuntimeManager
from amzn_nova_forge.model import NovaModelCustomizer


@pytest.fixture
def calls(monkeypatch):
    seen: list = []

    def fake_deploy_model(model_path, port=0, device="auto", *, timeout=300.0):
        seen.append((model_path, timeout))
        return "http://127.0.0.1:18080"

    monkeypatch.setattr(LocalRuntimeManager, "deploy_model", staticmethod(fake_deploy_model))
    return seen


def test_local_deploy_explicit(calls, tmp_path, no_aws_credentials):
    c = NovaModelCustomizer(Model.NOVA_LITE_2, TrainingMethod.SFT_LORA, LocalRuntimeManager())
    ckpt = tmp_path / "ckpt"
    ckpt.mkdir()
    d = c.deploy(model_artifact_path=str(ckpt), deploy_platform=DeployPlatform.LOCAL, endpoint_name="mine")
    assert calls == [(str(ckpt), 300.0)]  # runtime default timeout when none is given
    assert (d.endpoint.uri, d.endpoint.platform, d.endpoint.region) == (
        "http://127.0.0.1:18080",
        DeployPlatform.LOCAL,
        None,
    )
    assert d.endpoint.endpoint_name == "mine" and c.last_deployment is d


def test_local_checkpoint_with_local_runtime_defaults_to_local(calls, tmp_path, no_aws_credentials):
    c = NovaModelCustomizer(Model.NOVA_LITE_2, TrainingMethod.SFT_LORA, LocalRuntimeManager())
    d = c.deploy(model_artifact_path=str(tmp_path), timeout=42)  # default platform is BEDROCK_OD
    assert d.endpoint.platform is DeployPlatform.LOCAL
    assert d.endpoint.endpoint_name == "nova-lite-2-sft-lora-local"
    assert calls == [(str(tmp_path), 42)]


@pytest.mark.torch
@pytest.mark.slow
def test_real_local_server_deploy_invoke_status(tmp_path, no_aws_credentials, monkeypatch):
    """End to end with the local runtime's own server and its offline tiny model."""
    pytest.importorskip("torch")
    pytest.importorskip("transformers")
    from amzn_nova_forge.manager._local._tiny import save_tiny_model

    monkeypatch.setenv("HOME", str(tmp_path))  # the runtime keeps its server registry under ~
    ckpt = save_tiny_model(tmp_path / "tiny")
    c = NovaModelCustomizer(Model.NOVA_LITE_2, TrainingMethod.SFT_LORA, LocalRuntimeManager())
    d = c.deploy(model_artifact_path=str(ckpt), deploy_platform=DeployPlatform.LOCAL, timeout=240)
    try:
        assert d.endpoint.uri.startswith("http://127.0.0.1:") and d.status == "InService"
        r = c.invoke_inference({"messages": [{"role": "user", "content": "Hello!"}], "max_tokens": 4})
        assert r.deploy_platform is DeployPlatform.LOCAL and isinstance(r.text, str) and r.response["choices"]
    finally:
        LocalRuntimeManager.stop_deployment(d.endpoint.uri)
    assert d.status == "NotRunning"
