"""Intermediate checkpoints (``save_steps``) and resuming a local training job from one (worker side).

``checkpoints/step-N/`` is a complete Hugging Face folder like ``checkpoints/final`` (LoRA merged,
the adapter in ``adapter/``) plus, for SFT and CPT, ``trainer_state.pt``: the step, the samples
consumed and AdamW's state. ``LocalRuntimeManager(resume_from="<job>/checkpoints/step-N")`` starts
a job that continues from it with the same data order and optimizer moments, so its loss curve
continues the first job's.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from amzn_nova_forge.errors import ConfigError
from amzn_nova_forge.manager._local._engine._config import TrainConfig
from amzn_nova_forge.manager._local._jobdir import JobDir

__all__ = ["TRAINER_STATE", "Checkpoints", "read_resume", "restore_adapter"]

#: The trainer state file of a resumable checkpoint.
TRAINER_STATE = "trainer_state.pt"


class Checkpoints:
    """Relays each step event to the metrics writer and writes ``checkpoints/step-N`` every ``save_steps`` steps.

    With the engine (SFT, CPT) the engine calls :meth:`save` with its optimizer state (resumable
    checkpoints); the DPO and RFT loops save the weights from their step events (not resumable).
    """

    def __init__(self, writer: Any, jd: JobDir, cfg: TrainConfig, meta: dict[str, Any], model: Any, tok: Any) -> None:
        self.writer, self.jd, self.cfg, self.meta, self.model, self.tok = writer, jd, cfg, meta, model, tok
        self.engine = False
        self.saved: list[str] = []

    def __call__(self, ev: dict[str, Any]) -> bool:
        stop = bool(self.writer(ev))
        done, total = int(ev["step"]) + 1, int(ev.get("total_steps") or 0)
        every = self.cfg.save_steps
        if not self.engine and every and done % every == 0 and done < total:
            self.save(done, None)
        return stop

    def save(self, step: int, state: dict[str, Any] | None) -> Path:
        """Write ``checkpoints/step-<step>`` (and ``trainer_state.pt`` when ``state`` is given); rank 0 only."""
        import os

        from amzn_nova_forge.manager._local import _model

        out = self.jd.path / "checkpoints" / f"step-{step}"
        if os.environ.get("RANK", "0") != "0":  # torchrun: the other ranks hold the same weights
            return out
        _model.save_checkpoint(self.model, self.tok, out, {**self.meta, "step": step, "resumable": state is not None})
        if state is not None:
            import torch

            tmp = out / (TRAINER_STATE + ".tmp")
            torch.save(state, tmp)
            tmp.replace(out / TRAINER_STATE)
        self.saved.append(str(out))
        self.jd.log(f"Saved intermediate checkpoint {out} (step {step}).")
        self.jd.update_status(outputs={"intermediate_checkpoints": list(self.saved)})
        return out


def read_resume(folder: str, *, family: str, lora: bool) -> dict[str, Any]:
    """The trainer state of the checkpoint ``folder``.

    Raises:
        ConfigError: Not an SFT / CPT job, or ``folder`` is not a resumable checkpoint of a local job
            (or one of the other kind: LoRA vs full).
    """
    if family not in ("sft", "cpt"):
        raise ConfigError(
            f"resume_from works for SFT and CPT jobs; this job is {family.upper()}. "
            "Start it from the checkpoint's weights instead: model_path=<checkpoint folder>."
        )
    path = Path(folder).expanduser()
    state_file = path / TRAINER_STATE
    if not state_file.is_file():
        raise ConfigError(
            f"resume_from={folder!r} is not a resumable checkpoint: {state_file} is missing. Pass a "
            "checkpoints/step-N folder of a local SFT/CPT job that ran with save_steps."
        )
    if lora and not (path / "adapter").is_dir():
        raise ConfigError(f"resume_from={folder!r} holds no LoRA adapter (adapter/); it comes from a full-rank job.")
    if not lora and (path / "adapter").is_dir():
        raise ConfigError(f"resume_from={folder!r} comes from a LoRA job; resume it with a LoRA method.")
    import torch

    state = torch.load(state_file, map_location="cpu", weights_only=False)
    if not isinstance(state, dict) or "step" not in state or "optimizer" not in state:
        raise ConfigError(f"{state_file} is not a trainer state written by the local runtime.")
    return state


def restore_adapter(model: Any, folder: str) -> None:
    """Load the LoRA adapter weights of checkpoint ``folder`` into the peft ``model`` (same shape)."""
    from peft import set_peft_model_state_dict
    from safetensors.torch import load_file

    weights = Path(folder).expanduser() / "adapter" / "adapter_model.safetensors"
    if not weights.is_file():
        raise ConfigError(f"{weights} is missing: the checkpoint's LoRA adapter cannot be restored.")
    result = set_peft_model_state_dict(model, load_file(str(weights)))
    unexpected = getattr(result, "unexpected_keys", None)
    if unexpected:
        raise ConfigError(f"The adapter in {folder} does not fit this model (unexpected weights {unexpected[:3]}).")
