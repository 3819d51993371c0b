"""Fixtures for the runtime-manager tests (moto in-process, see aws_support)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

import aws_support as A


@pytest.fixture
def nova_aws(aws: Any, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """moto with an assumed execution role as the caller, a data bucket and allowed IAM simulation."""
    role = A.assume_role(monkeypatch)
    A.put("s3://my-bucket/training-data/train.jsonl", A.SFT_JSONL)
    A.put("s3://my-bucket/rft/train.jsonl", A.RFT_JSONL)
    sims = A.allow_simulation()
    return {"role": role, "simulations": sims}
