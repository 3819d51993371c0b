"""Official path of ``LanguageDetectionFilterOperation``."""

from __future__ import annotations

from amzn_nova_forge.dataset._curation._ops import LanguageDetectionFilterOperation

__all__ = ["LanguageDetectionFilterOperation"]
