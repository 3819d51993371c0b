"""Reward environments run by the RFT multiturn workers.

An environment is any object with::

    rollout(sample: dict, generate: Callable[[list[dict]], str]) -> dict

``generate(messages)`` asks the policy being trained (through the generate queues) for the
next assistant message. ``rollout`` returns ``{"reward": float, "messages": [...],
"metrics": {...}}``. A module provides environments through ``load_environment(**vf_env_args)``.
Built-ins: ``wordle`` and ``terminalbench_env``; custom ones come from
:class:`~amzn_nova_forge.rft_multiturn.CustomEnvironment` folders.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
from pathlib import Path
from typing import Any

__all__ = ["BUILTIN_ENVS", "executes_commands", "load_builtin", "load_from_path", "module_name"]

BUILTIN_ENVS = {
    "wordle": "amzn_nova_forge.rft_multiturn.envs.wordle",
    "terminalbench_env": "amzn_nova_forge.rft_multiturn.envs.terminalbench",
}


def module_name(env_id: str) -> str:
    """Python module name of a custom environment (``my-env`` -> ``my_env``)."""
    return env_id.replace("-", "_")


def executes_commands(env_id: str) -> bool:
    """Does the built-in environment run commands written by the model (``EXECUTES_COMMANDS``)?"""
    if env_id not in BUILTIN_ENVS:
        return False
    return bool(getattr(importlib.import_module(BUILTIN_ENVS[env_id]), "EXECUTES_COMMANDS", False))


def _check(env: Any, where: str) -> Any:
    if not callable(getattr(env, "rollout", None)):
        raise TypeError(f"{where}: load_environment() must return an object with a rollout(sample, generate) method.")
    return env


def load_builtin(env_id: str, **kwargs: Any) -> Any:
    """Instantiate a built-in environment."""
    if env_id not in BUILTIN_ENVS:
        raise ValueError(f"Unknown built-in environment {env_id!r}; known: {sorted(BUILTIN_ENVS)}.")
    return _check(importlib.import_module(BUILTIN_ENVS[env_id]).load_environment(**kwargs), env_id)


def load_from_path(path: str | Path, env_id: str, **kwargs: Any) -> Any:
    """Instantiate a custom environment from its folder (``<folder>/<module>.py``)."""
    folder = Path(path).expanduser()
    mod_name = module_name(env_id)
    file = folder / f"{mod_name}.py"
    if not file.is_file():
        raise FileNotFoundError(f"{file} not found: a custom environment needs {mod_name}.py with load_environment().")
    spec = importlib.util.spec_from_file_location(mod_name, file)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.path.insert(0, str(folder))
    try:
        spec.loader.exec_module(module)
    finally:
        if sys.path and sys.path[0] == str(folder):
            sys.path.pop(0)
    loader = getattr(module, "load_environment", None)
    if not callable(loader):
        raise TypeError(f"{file} does not define load_environment(**kwargs).")
    return _check(loader(**kwargs), str(file))
