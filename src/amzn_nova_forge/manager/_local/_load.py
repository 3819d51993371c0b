"""Load the model a local job starts from (worker side): checkpoint folders, job folders, manifests, ids.

Shared by training (``_jobs``), evaluation and batch inference (``_eval``) and the server
(``_serve``), so none of them imports another.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from amzn_nova_forge.errors import ConfigError
from amzn_nova_forge.manager._local._hparams import TrainConfig
from amzn_nova_forge.manager._local._jobdir import JobDir

__all__ = ["TINY_NOTICE", "load_model_for", "read_recipe", "resolve_model_source"]

TINY_NOTICE = (
    "NOTE: no base model was given, so this job uses a TINY DEMO MODEL built offline "
    "(random weights, byte-level tokenizer). It rehearses the workflow; its answers are not meaningful. "
    "Pass base_model=<Hugging Face id or folder> for a real model."
)


def read_recipe(job: dict[str, Any]) -> dict[str, Any]:
    """The job's recipe YAML as a dict (``{}`` when the job has none)."""
    path = job.get("recipe_path")
    if not path:
        return {}
    import yaml

    from amzn_nova_forge.core import storage

    data = yaml.safe_load(storage.read_text(path)) or {}
    return data if isinstance(data, dict) else {}


def resolve_model_source(job: dict[str, Any]) -> str | None:
    """The model to start from: a local checkpoint in ``model_name_or_path``, else ``base_model``.

    ``model_name_or_path`` may be a checkpoint folder, a local job folder, or an
    ``output.tar.gz``/``manifest.json`` of a local job (the manifest names the checkpoint).
    """
    mp = job.get("model_name_or_path")
    if mp and not str(mp).startswith("s3://") and not str(mp).endswith("/prod"):
        p = Path(str(mp)).expanduser()
        if p.is_dir() and (p / "checkpoints" / "final").is_dir():
            return str(p / "checkpoints" / "final")
        if p.name in ("manifest.json", "output.tar.gz") or (p.is_dir() and (p / "manifest.json").exists()):
            manifest = p if p.name == "manifest.json" else (p.parent if p.is_file() else p) / "manifest.json"
            if manifest.exists():
                return str(json.loads(manifest.read_text(encoding="utf-8"))["checkpoint_path"])
        if p.is_dir():
            return str(p)
        if p.exists():
            raise ConfigError(f"model_path {mp!r} is not a model folder. Pass a checkpoint folder of a local job.")
        return str(mp)  # a Hugging Face model id
    elif mp and str(mp).startswith("s3://"):
        raise ConfigError(
            f"model_path {mp!r} is an S3 checkpoint of a cloud job; Nova weights cannot be loaded locally. "
            "Pass the checkpoint folder of a local job (LocalTrainingResult.model_artifacts.checkpoint_s3_path)."
        )
    return job.get("base_model")


def load_model_for(jd: JobDir, job: dict[str, Any], cfg: TrainConfig) -> tuple[Any, Any, dict[str, Any]]:
    from amzn_nova_forge.manager._local import _model

    device = _model.pick_device(job.get("device"))
    if device == "cuda" and "LOCAL_RANK" in os.environ:  # one torchrun process per GPU
        device = f"cuda:{int(os.environ['LOCAL_RANK'])}"
    cfg.device = device
    source = resolve_model_source(job)
    jd.log(f"Loading model {source or 'tiny-demo'} on {device} ...")
    model, tok, info = _model.load(source, device, dtype=cfg.dtype, seed=cfg.seed)
    if info.get("tiny"):
        jd.log(TINY_NOTICE)
    cfg.pad_token_id = tok.pad_token_id if tok.pad_token_id is not None else 0
    limit = getattr(model.config, "max_position_embeddings", None)
    if isinstance(limit, int) and 0 < limit < cfg.max_length:
        jd.log(f"max_length {cfg.max_length} exceeds the model's context ({limit}); using {limit}.")
        cfg.max_length = limit
    n = sum(p.numel() for p in model.parameters())
    jd.log(f"Model loaded: {type(model).__name__}, {n / 1e6:.2f}M parameters, dtype {next(model.parameters()).dtype}.")
    jd.update_status(model={"source": source or "tiny-demo", "tiny": bool(info.get("tiny")), "device": device})
    return model, tok, info
