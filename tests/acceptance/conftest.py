"""Acceptance-test fixtures (defined in ``acceptance_support``; see its docstring)."""

from __future__ import annotations

from acceptance_support import notebook  # noqa: F401 - the fixture
