"""Fixtures of the newcomer (UX) tests: the acceptance tests' ``notebook`` (moto with the README's buckets)."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "acceptance"))

from acceptance_support import notebook  # noqa: F401 - the fixture
