"""Saving and restoring an :class:`RFTMultiturnInfrastructure` (``dump`` / ``load``)."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from amzn_nova_forge.errors import ConfigError
from amzn_nova_forge.rft_multiturn import _stacks
from amzn_nova_forge.rft_multiturn._custom_env import CustomEnvironment

if TYPE_CHECKING:
    from amzn_nova_forge.rft_multiturn._infra import RFTMultiturnInfrastructure

__all__ = ["dump_state", "load_state"]

logger = logging.getLogger(__name__)


def dump_state(
    infra: RFTMultiturnInfrastructure, file_path: str | None, file_name: str | None, include_session_id: bool
) -> Path:
    """Write ``infra``'s state as JSON (atomically); returns the file."""
    from amzn_nova_forge.core.storage import write_text

    default = f"rft_state_{infra.stack_name}_{infra.session_id}.json" if include_session_id else None
    path = Path(file_path or ".") / (file_name or default or f"rft_state_{infra.stack_name}.json")
    state = {
        **infra.get_configuration(),
        "custom_env": infra.custom_env.to_dict() if infra.custom_env else None,
        "python_venv_name": infra.python_venv_name,
        "starter_kit_path": infra.starter_kit_path,
        "allow_local_command_execution": infra.allow_local_command_execution,
        "infra_state": infra.infra.get_state(),
        "dumped_at": datetime.now(UTC).isoformat(),
    }
    write_text(str(path), json.dumps(state, indent=2, default=str))
    logger.info("Saved RFT infrastructure state to %s", path)
    return path


def load_state(
    cls: type[RFTMultiturnInfrastructure], file_path: str, auto_reconnect: bool
) -> RFTMultiturnInfrastructure:
    """Rebuild an infrastructure from a :func:`dump_state` file."""
    try:
        state = json.loads(Path(file_path).read_text())
    except (OSError, json.JSONDecodeError) as e:
        raise ConfigError(f"{file_path} is not a saved RFT infrastructure state: {e}") from e
    missing = [k for k in ("stack_name", "region", "env_id", "session_id") if k not in state]
    if missing:
        raise ConfigError(f"{file_path} is not a saved RFT infrastructure state: missing {', '.join(missing)}.")
    infra_state = state.get("infra_state") or {}
    custom = state.get("custom_env")
    custom_env = CustomEnvironment(**custom) if custom else None
    obj = cls(
        stack_name=state["stack_name"],
        region=state["region"],
        vf_env_id=None if custom_env else state["env_id"],
        custom_env=custom_env,
        infrastructure_arn=state.get("infrastructure_arn"),
        python_venv_name=state.get("python_venv_name"),
        starter_kit_path=state.get("starter_kit_path"),
        vpc_config=infra_state.get("vpc_config"),
        cpu=infra_state.get("cpu"),
        memory=infra_state.get("memory"),
        rft_role_name=state.get("rft_role_name"),
        container_image=infra_state.get("image"),
        allow_local_command_execution=bool(state.get("allow_local_command_execution")),
    )
    obj._session_id = obj.infra.session_id = state["session_id"]
    if state.get("stack_outputs"):
        obj.stack_outputs = _stacks.StackOutputs(**state["stack_outputs"])
    if auto_reconnect:
        obj.infra.restore(infra_state)
    return obj
