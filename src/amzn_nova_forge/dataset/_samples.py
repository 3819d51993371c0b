"""Bundled sample datasets (package data under ``dataset/samples/``).

* ``qa`` — 200 generic ``question``/``answer`` rows with deterministic patterns (capitals,
  reversing and upper-casing words, small sums, successors) that a tiny model can learn.
* ``gen_qa`` — 24 held-out rows of the same patterns in the evaluation BYOD format
  (``query``/``response``), named ``gen_qa.jsonl`` as evaluation requires.
"""

from __future__ import annotations

from importlib import resources

from amzn_nova_forge.errors import ConfigError

__all__ = ["SAMPLES", "sample_path"]

SAMPLES = {"qa": "qa.jsonl", "gen_qa": "gen_qa.jsonl"}


def sample_path(name: str = "qa") -> str:
    """Local path of a bundled sample dataset.

    Args:
        name: ``"qa"`` (generic Q/A for SFT) or ``"gen_qa"`` (evaluation BYOD); the file
            name (``"qa.jsonl"``) works too.

    Raises:
        ConfigError: Unknown sample name (the message lists the known ones).

    Example:
        >>> from amzn_nova_forge.dataset import JSONLDatasetLoader, sample_path
        >>> len(JSONLDatasetLoader(question="question", answer="answer").load(sample_path("qa")))
        200
    """
    key = name.removesuffix(".jsonl")
    if key not in SAMPLES:
        raise ConfigError(f"Unknown sample dataset {name!r}; available: {', '.join(sorted(SAMPLES))}.")
    return str(resources.files("amzn_nova_forge.dataset").joinpath("samples", SAMPLES[key]))
